import XCTest

@testable import PortModel
@testable import PortProfiles

/// The hand-written XML reader behind the DSS, Icecast and Wowza configuration readers.
final class ConfigXMLTests: XCTestCase {
    private func parse(_ text: String) throws -> ConfigXMLElement { try ConfigXML.parse(text, file: "/etc/test.xml") }

    private func failure(_ text: String) -> ConfigError? {
        do throws(ConfigError) {
            _ = try ConfigXML.parse(text, file: "/etc/test.xml")
            return nil
        } catch { return error }
    }

    private func assertFails(_ text: String, line: Int, _ message: String, file: StaticString = #filePath, at: UInt = #line) {
        guard let error = failure(text) else { return XCTFail("parsed without an error", file: file, line: at) }
        XCTAssertEqual(error.file, "/etc/test.xml", file: file, line: at)
        XCTAssertEqual(error.line, line, file: file, line: at)
        XCTAssertEqual(error.message, message, file: file, line: at)
    }

    func testElementsAttributesTextAndLines() throws {
        let root = try parse(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- a comment before the root -->
            <server name='main' type="test">
              <listen>
                <port>
                  8000
                </port>
              </listen>
              <?pi skipped?>
              <empty/>
            </server>
            <!-- and one after -->

            """)
        XCTAssertEqual(root.name, "server")
        XCTAssertEqual(root.attributes, ["name": "main", "type": "test"])
        XCTAssertEqual(root.line, 3)
        XCTAssertEqual(root.children.map(\.name), ["listen", "empty"])
        let port = try XCTUnwrap(root.first("listen")?.first("port"))
        XCTAssertEqual(port.value, "8000")
        XCTAssertEqual(port.line, 5)
        XCTAssertEqual(port.textLine, 6)
        XCTAssertEqual(port.directive, "<port>8000</port>")
        XCTAssertEqual(root.last("empty")?.line, 10)
        XCTAssertEqual(root.last("empty")?.text, "")
    }

    func testEntitiesCharacterReferencesAndCDATA() throws {
        let root = try parse("<a t=\"&lt;&amp;&gt;\">&lt;x&gt; &amp; &quot;&apos; &#65;&#x42; <![CDATA[<raw> & ]]>tail</a>")
        XCTAssertEqual(root.attributes["t"], "<&>")
        XCTAssertEqual(root.text, "<x> & \"' AB <raw> & tail")
    }

    func testByteOrderMarkAndLineEndings() throws {
        let root = try parse("\u{FEFF}<a>\r\n<b/>\r<c/>\n</a>")
        XCTAssertEqual(root.children.map(\.line), [2, 3])
    }

    func testDoctypeWithInternalSubsetIsSkipped() throws {
        let root = try parse(
            """
            <?xml version="1.0"?>
            <!DOCTYPE CONFIGURATION [
            <!ELEMENT CONFIGURATION (SERVER, MODULE*)>
            <!ATTLIST PREF
                NAME CDATA #REQUIRED
                TYPE (UInt16|CharArray) "CharArray">
            <!-- a comment with ] and > in it -->
            <!ENTITY note "a ] and a > inside quotes">
            ]>
            <CONFIGURATION>
              <SERVER/>
            </CONFIGURATION>
            """)
        XCTAssertEqual(root.name, "CONFIGURATION")
        XCTAssertEqual(root.line, 10)
        XCTAssertEqual(root.first("SERVER")?.line, 11)
    }

    func testEntitiesTheDoctypeDeclaresAreNotExpanded() {
        let expected =
            "unknown entity &xxe;: only &lt; &gt; &amp; &quot; &apos; and character references such as &#38; are expanded "
            + "(entities a DOCTYPE declares are not)"
        assertFails("<!DOCTYPE a [\n<!ENTITY xxe SYSTEM \"file:///etc/shadow\">\n]>\n<a>&xxe;</a>", line: 4, expected)
        let laughs = """
            <!DOCTYPE lolz [
             <!ENTITY lol "lol">
             <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
            ]>
            <lolz>&lol2;</lolz>
            """
        XCTAssertEqual(failure(laughs)?.line, 5)
        XCTAssertEqual(failure(laughs)?.message.hasPrefix("unknown entity &lol2;"), true)
    }

    func testMismatchedEndTag() {
        assertFails("<a>\n  <b>\n</a>", line: 3, "</a> closes <b> opened at line 2")
    }

    func testUnclosedElementAtTheEnd() {
        assertFails("<a>\n  <b>text</b>\n", line: 1, "<a> opened at line 1 is not closed: the file ends at line 3; expected </a>")
    }

    func testBadAttributeSyntax() {
        assertFails("<a\n  name=value>", line: 2, "bad attribute syntax in <a>: the value of name is not quoted; expected name=\"value\"")
        assertFails("<a b=\"1\"c=\"2\"/>", line: 1, "bad attribute syntax in <a>: expected name=\"value\" or '>', found 'c=\"2\"/>'")
        assertFails("<a b \"1\"/>", line: 1, "bad attribute syntax in <a>: b has no '='; expected b=\"value\"")
        assertFails("<a b=\"1\" b=\"2\"/>", line: 1, "bad attribute syntax in <a>: b appears twice")
        assertFails("<a b=\"<\"/>", line: 1, "bad attribute syntax in <a>: '<' in the value of b; write it as &lt;")
    }

    func testTextOrElementsAfterTheRoot() {
        assertFails(
            "<a/>\n<!-- fine -->\ntrailing words", line: 3,
            "text after the root element <a> was closed: 'trailing words'; expected only comments after it")
        assertFails("<a/>\n<b/>", line: 2, "'<b/>' after the root element <a> (line 1) was closed; a file has one root element")
    }

    func testTextBeforeTheRoot() {
        assertFails("hello <a/>", line: 1, "'hello' before the root element; expected the root element's start tag")
    }

    func testUnterminatedCommentCDATAAndDoctype() {
        assertFails("<a>\n<!-- open\n</a>", line: 2, "unterminated comment: '<!--' at line 2 has no closing '-->'")
        assertFails("<a><![CDATA[ open </a>", line: 1, "unterminated CDATA section: '<![CDATA[' at line 1 has no ']]>'")
        assertFails(
            "<!DOCTYPE a [\n<!ELEMENT a ANY>\n<a/>", line: 1, "unterminated internal subset of the <!DOCTYPE at line 1: expected ']>'")
    }

    func testLiteralAmpersandAndBadCharacterReference() {
        assertFails("<a>AT&T</a>", line: 1, "'&T' is not an entity reference; write a literal '&' as &amp;")
        assertFails("<a>&#0;</a>", line: 1, "&#0; is not a valid character reference; expected e.g. &#38; or &#x26;")
        assertFails("<a>&#xD800;</a>", line: 1, "&#xD800; is not a valid character reference; expected e.g. &#38; or &#x26;")
    }

    func testEmptyFileHasNoRoot() {
        assertFails("", line: 0, "has no root element; expected an XML document")
        assertFails("<?xml version=\"1.0\"?>\n<!-- nothing -->\n", line: 0, "has no root element; expected an XML document")
    }

    func testDepthLimit() throws {
        let deepest = String(repeating: "<e>", count: 64) + String(repeating: "</e>", count: 64)
        XCTAssertEqual(try parse(deepest).name, "e")
        let tooDeep = String(repeating: "<e>\n", count: 65) + String(repeating: "</e>", count: 65)
        assertFails(tooDeep, line: 65, "elements are nested more than 64 deep; a configuration file needs far fewer levels")
    }
}

import XCTest

@testable import PortModel
@testable import PortProfiles

/// The nginx syntax shared by the nginx-rtmp and SRS readers: tokens, blocks, errors, includes.
final class NginxConfigSyntaxTests: XCTestCase {
    let main = "/etc/nginx/nginx.conf"

    func read(_ files: [String: String]) throws -> ServerConfig {
        try NginxRTMPConfigReader.read(path: main, files: MemoryConfigFiles(files))
    }

    func read(_ text: String) throws -> ServerConfig { try read([main: text]) }

    func failure(_ files: [String: String]) -> ConfigError? {
        do {
            _ = try read(files)
            return nil
        } catch { return error as? ConfigError }
    }

    func failure(_ text: String) -> ConfigError? { failure([main: text]) }

    // MARK: Syntax

    func testTheSyntaxTreeKeepsNamesArgumentsAndLines() throws {
        let directives = try NginxConfigSyntax.parse("a 1 \"two words\" 'it\\'s';\nb {\n  c\n    3;\n}\n", file: "/x.conf")
        XCTAssertEqual(directives.map(\.name), ["a", "b"])
        XCTAssertEqual(directives[0].args, ["1", "two words", "it's"])
        XCTAssertNil(directives[0].children)
        XCTAssertEqual(directives[0].text, "a 1 \"two words\" 'it\\'s';")
        XCTAssertEqual(directives[1].line, 2)
        XCTAssertEqual(directives[1].text, "b {")
        XCTAssertEqual(directives[1].children?.first?.args, ["3"])
        XCTAssertEqual(directives[1].children?.first?.argLines, [4], "a directive may run over lines in nginx")
    }

    func testWordsKeepVariablesAndEscapes() throws {
        let directives = try NginxConfigSyntax.parse(
            "set $a ${host}x\\;y;\nreturn 200 \"tab\\there\" 'back\\\\slash' a#b;\n", file: "/x.conf")
        XCTAssertEqual(directives[0].args, ["$a", "${host}x\\;y"], "the backslash keeps the ; in the word, and stays, as in nginx")
        XCTAssertEqual(directives[1].args, ["200", "tab\there", "back\\slash", "a#b"])
    }

    func testSRSWantsEachDirectiveOnOneLineAndBlocksAreBounded() {
        XCTAssertThrowsError(try NginxConfigSyntax.parse("listen\n    1935;\n", file: "/srs.conf", style: .srs)) { error in
            XCTAssertEqual(
                error as? ConfigError,
                ConfigError(
                    file: "/srs.conf", line: 1,
                    message: "expected ';' or '{' after 'listen' at the end of line 1; '1935' on line 2 starts another directive"))
        }
        XCTAssertEqual(try NginxConfigSyntax.parse("listen\n    1935;\n", file: "/nginx.conf").first?.args, ["1935"])
        XCTAssertThrowsError(try NginxConfigSyntax.parse(String(repeating: "a {\n", count: 65), file: "/deep.conf")) { error in
            XCTAssertEqual((error as? ConfigError)?.line, 65)
            XCTAssertEqual((error as? ConfigError)?.message, "blocks nested more than 64 deep; expected a real configuration")
        }
    }

    func testSyntaxErrorsNameTheFileAndLine() {
        XCTAssertEqual(
            failure("rtmp {\n    server {\n        listen 1935;\n    }\n"),
            ConfigError(file: main, line: 4, message: "'{' at line 1 is never closed ('rtmp {'); expected '}' before the end of the file"))
        XCTAssertEqual(
            failure("rtmp {\n    server { listen 1935; }\n}\n}\n"),
            ConfigError(file: main, line: 4, message: "unexpected '}': no block is open here"))
        XCTAssertEqual(
            failure("rtmp {\n    server {\n        listen 1935\n        application live { live on; }\n    }\n}\n"),
            ConfigError(
                file: main, line: 3,
                message: "expected ';' or '{' after 'listen 1935' at the end of line 3; 'application' on line 4 starts another directive"))
        XCTAssertEqual(
            failure("rtmp {\n    server {\n        listen 1935\n        chunk_size 4096;\n    }\n}\n"),
            ConfigError(
                file: main, line: 3,
                message: "listen 1935 chunk_size 4096: expected ';' at the end of line 3: 'chunk_size' on line 4 is not a listen parameter")
        )
        XCTAssertEqual(
            failure("rtmp { server { listen 1935 } }\n"),
            ConfigError(file: main, line: 1, message: "expected ';' or '{' after 'listen 1935' before the '}' on line 1"))
        XCTAssertEqual(
            failure("http {\n    server {\n        add_header X-Note \"unterminated;\n    }\n}\n"),
            ConfigError(
                file: main, line: 3,
                message: "unterminated quote: the \" opened on line 3 is never closed; expected a closing \" before the end of the file"))
        XCTAssertEqual(
            failure("http { server { add_header X \"a\"b; } }\n"),
            ConfigError(
                file: main, line: 1,
                message: "unexpected 'b' right after the quoted string \"a\"; expected a space, ';' or '{' after the closing \""))
        XCTAssertEqual(failure("events { }\n;\n"), ConfigError(file: main, line: 2, message: "unexpected ';' with no directive before it"))
    }

    // MARK: Includes

    func testIncludesAreSplicedInPlaceKeepingTheirOwnFileAndLine() throws {
        let config = try read([
            main: "rtmp {\n    include rtmp.d/*.conf;\n}\nhttp {\n    include sites-enabled/*;\n    include /etc/nginx/none.d/*.conf;\n}\n",
            "/etc/nginx/rtmp.d/a.conf": "# first\nserver {\n    listen [::]:1935;\n    include apps/live.conf;\n}\n",
            "/etc/nginx/rtmp.d/b.conf": "server {\n    listen [2001:db8::5]:1937;\n}\n",
            "/etc/nginx/rtmp.d/notes.txt": "not included\n",
            "/etc/nginx/apps/live.conf": "application live { live on; }\napplication vod { play /srv; }\n",
            "/etc/nginx/sites-enabled/default": "server {\n    listen 80;\n}\n",
        ])
        XCTAssertEqual(
            config.files,
            [main, "/etc/nginx/rtmp.d/a.conf", "/etc/nginx/apps/live.conf", "/etc/nginx/rtmp.d/b.conf", "/etc/nginx/sites-enabled/default"])
        XCTAssertEqual(config.listeners.map(\.id), ["rtmp", "rtmp-1937", "http"])
        XCTAssertEqual(config.listener("rtmp")?.bind, .any, "[::] is every address")
        XCTAssertEqual(config.listener("rtmp")?.citation, Citation(file: "/etc/nginx/rtmp.d/a.conf", line: 3, text: "listen [::]:1935;"))
        XCTAssertEqual(config.listener("rtmp-1937")?.citation.description, "b.conf:2 listen [2001:db8::5]:1937;")
        XCTAssertEqual(config.listener("http")?.citation.description, "default:2 listen 80;")
        XCTAssertEqual(config.streamPaths[.rtmp], ["live", "vod"])
    }

    func testAMissingIncludeNamesTheIncludesFileAndLine() {
        // Relative to the main file's directory (nginx's conf prefix), not to the including file's.
        let error = failure([
            main: "http {\n    include conf.d/site.conf;\n}\n",
            "/etc/nginx/conf.d/site.conf": "server {\n    include snippets/ssl.conf;\n}\n",
        ])
        XCTAssertEqual(
            error,
            ConfigError(
                file: "/etc/nginx/conf.d/site.conf", line: 2,
                message: "include snippets/ssl.conf: cannot read /etc/nginx/snippets/ssl.conf: no such file; "
                    + "expected an existing, readable file (a glob may match none)"))
    }

    func testIncludeLoopsAndDeepIncludesAreRefused() {
        XCTAssertEqual(
            failure([main: "include a.conf;\n", "/etc/nginx/a.conf": "include b.conf;\n", "/etc/nginx/b.conf": "# back\ninclude a.conf;\n"]
            ),
            ConfigError(
                file: "/etc/nginx/b.conf", line: 2,
                message: "include a.conf: include loop (a.conf -> b.conf -> a.conf); expected a file that does not include itself"))
        var files = [main: "include d1.conf;\n"]
        for level in 1...20 { files["/etc/nginx/d\(level).conf"] = "include d\(level + 1).conf;\n" }
        XCTAssertEqual(
            failure(files),
            ConfigError(
                file: "/etc/nginx/d16.conf", line: 1, message: "include d17.conf: includes nested more than 16 deep; expected at most 16"))
        XCTAssertEqual(
            failure("include a.conf b.conf;\n"),
            ConfigError(
                file: main, line: 1,
                message: "include a.conf b.conf: include takes one file or glob; expected include FILE; e.g. include conf.d/*.conf;"))
    }
}

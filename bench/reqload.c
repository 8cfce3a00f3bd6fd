#define _GNU_SOURCE
/* Closed-loop request/response load over keep-alive connections on loopback, the same for
 * RTSP and HTTP servers: each connection sends a request, reads the whole reply (head, plus
 * Content-Length bytes), and sends the next. Usage:
 *   reqload PORT SECONDS CONNECTIONS rtsp|http    prints: requests=N seconds=S rate=R/s errors=E
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

typedef struct { int fd; char buf[8192]; int len; long cseq; } conn_t;

static int complete(conn_t *c) {
    char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end) return 0;
    int head = (int)(end - c->buf) + 4, body = 0;
    char *cl = memmem(c->buf, head, "Content-Length:", 15);
    if (cl) body = atoi(cl + 15);
    if (c->len < head + body) return 0;
    memmove(c->buf, c->buf + head + body, c->len - head - body);
    c->len -= head + body;
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: reqload PORT SECONDS CONNECTIONS rtsp|http\n"); return 64; }
    int port = atoi(argv[1]), n = atoi(argv[3]); double seconds = atof(argv[2]); int rtsp = strcmp(argv[4], "rtsp") == 0;
    conn_t *conns = calloc(n, sizeof(conn_t));
    struct pollfd *fds = calloc(n, sizeof(struct pollfd));
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    long requests = 0, errors = 0;
    char request[256];
    for (int i = 0; i < n; i++) {
        conns[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(conns[i].fd, (struct sockaddr *)&to, sizeof to) != 0) { perror("connect"); return 1; }
        fds[i].fd = conns[i].fd; fds[i].events = POLLIN;
        int len = rtsp ? snprintf(request, sizeof request, "OPTIONS rtsp://127.0.0.1:%d/test RTSP/1.0\r\nCSeq: %ld\r\n\r\n", port, ++conns[i].cseq)
                       : snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        write(conns[i].fd, request, len);
    }
    double start = now(), end = start + seconds;
    while (now() < end) {
        if (poll(fds, n, 100) <= 0) continue;
        for (int i = 0; i < n; i++) {
            if (!(fds[i].revents & POLLIN)) continue;
            ssize_t got = read(conns[i].fd, conns[i].buf + conns[i].len, sizeof conns[i].buf - conns[i].len);
            if (got <= 0) { errors++; fds[i].fd = -1; continue; }
            conns[i].len += got;
            while (complete(&conns[i])) {
                requests++;
                int len = rtsp ? snprintf(request, sizeof request, "OPTIONS rtsp://127.0.0.1:%d/test RTSP/1.0\r\nCSeq: %ld\r\n\r\n", port, ++conns[i].cseq)
                               : snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                write(conns[i].fd, request, len);
            }
        }
    }
    double elapsed = now() - start;
    printf("requests=%ld seconds=%.2f rate=%.0f/s errors=%ld\n", requests, elapsed, requests / elapsed, errors);
    return 0;
}

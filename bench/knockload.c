#define _GNU_SOURCE
/* Load generator for streamd's UDP knock: sends knocks from many 127.x.y.z source addresses
 * (the rate limit is per source) to one port on 127.0.0.1, for a fixed time, and counts the
 * replies that echo the request's nonce. Traffic stays on loopback.
 * Usage: knockload PORT SECONDS SOURCES   prints: sent=N replies=N seconds=S rate=R/s
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: knockload PORT SECONDS SOURCES\n"); return 64; }
    int port = atoi(argv[1]); double seconds = atof(argv[2]); int sources = atoi(argv[3]);
    if (sources < 1 || sources > 60000) return 64;
    int *fds = calloc(sources, sizeof(int));
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    for (int i = 0; i < sources; i++) {
        fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = 0};
        from.sin_addr.s_addr = htonl(0x7F010000u + (uint32_t)i + 1); /* 127.1.0.1 ... */
        if (bind(fds[i], (struct sockaddr *)&from, sizeof from) != 0) { perror("bind"); return 1; }
        connect(fds[i], (struct sockaddr *)&to, sizeof to);
    }
    unsigned char request[56] = {'P', 'C', 'K', '1', 1, 0, (unsigned char)(port >> 8), (unsigned char)port};
    unsigned char reply[128];
    long sent = 0, replies = 0, outstanding = 0;
    double start = now(), end = start + seconds;
    while (now() < end) {
        for (int i = 0; i < sources; i++) {
            if (outstanding < 4 * sources) {
                memcpy(request + 8, &sent, sizeof sent); /* the nonce: a counter */
                if (send(fds[i], request, sizeof request, 0) == sizeof request) { sent++; outstanding++; }
            }
            ssize_t n;
            while ((n = recv(fds[i], reply, sizeof reply, 0)) > 0) {
                if (n == 56 && reply[4] == 2) { replies++; }
                outstanding--;
            }
        }
    }
    double elapsed = now() - start;
    printf("sent=%ld replies=%ld seconds=%.2f rate=%.0f/s\n", sent, replies, elapsed, replies / elapsed);
    return 0;
}

#define _GNU_SOURCE
/* A network delay for benchmarks on a kernel without sch_netem (nor sch_fq for EDT): every packet
 * that iptables sends to NFQUEUE queue QUEUE is held for DELAY_MS milliseconds, then accepted.
 * The delay is the same for every packet, so packets are due in the order the kernel queued them
 * (queue ids rise), and one batch verdict accepts everything due: the cost per packet is a
 * netlink message in and a share of one out. Run it inside the namespace whose traffic it
 * delays; rules there send packets to the queue with --queue-bypass, so nothing is held if it is
 * not running. Runs until SIGTERM or SIGINT, and then accepts everything it still holds.
 * Usage: delayline QUEUE DELAY_MS     (bench/probe.sh, the fleet case with latency)
 * Build: cc -O2 -o delayline bench/delayline.c -lnetfilter_queue   (libnetfilter-queue-dev)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CAPACITY 65536 /* packets held at once; the queue's own limit is set to the same */

static uint32_t ids[CAPACITY];
static double due[CAPACITY];
static unsigned head, count;
static double delay;
static volatile sig_atomic_t stopping;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void on_signal(int sig) { (void)sig; stopping = 1; }

static int on_packet(struct nfq_q_handle *queue, struct nfgenmsg *message, struct nfq_data *data, void *context) {
    (void)message; (void)context;
    struct nfqnl_msg_packet_hdr *header = nfq_get_msg_packet_hdr(data);
    if (!header) return 0;
    uint32_t id = ntohl(header->packet_id);
    if (count == CAPACITY) return nfq_set_verdict(queue, id, NF_ACCEPT, 0, NULL); /* full: no delay */
    unsigned tail = (head + count) % CAPACITY;
    ids[tail] = id;
    due[tail] = now() + delay;
    count++;
    return 0;
}

/* Accepts every held packet due by `until`, with one batch verdict for the last of them. */
static void release(struct nfq_q_handle *queue, double until) {
    uint32_t last = 0;
    int any = 0;
    while (count > 0 && due[head] <= until) {
        last = ids[head];
        any = 1;
        head = (head + 1) % CAPACITY;
        count--;
    }
    if (any) nfq_set_verdict_batch(queue, last, NF_ACCEPT);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: delayline QUEUE DELAY_MS\n"); return 64; }
    int number = atoi(argv[1]);
    delay = atof(argv[2]) / 1000.0;
    if (number < 0 || number > 65535 || delay < 0 || delay > 10) {
        fprintf(stderr, "delayline: QUEUE is 0-65535 and DELAY_MS 0-10000\n");
        return 64;
    }
    struct nfq_handle *handle = nfq_open();
    if (!handle) { perror("delayline: nfq_open"); return 1; }
    struct nfq_q_handle *queue = nfq_create_queue(handle, (uint16_t)number, on_packet, NULL);
    if (!queue) { perror("delayline: nfq_create_queue"); return 1; }
    if (nfq_set_mode(queue, NFQNL_COPY_META, 0) < 0) { perror("delayline: nfq_set_mode"); return 1; }
    nfq_set_queue_maxlen(queue, CAPACITY);
    int fd = nfq_fd(handle);
    int size = 16 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    struct sigaction action = {.sa_handler = on_signal};
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    printf("delayline: queue %d, %.1f ms\n", number, delay * 1000);
    fflush(stdout);
    char buffer[65536];
    while (!stopping) {
        int wait = 100;
        if (count > 0) {
            double left = due[head] - now();
            wait = left <= 0 ? 0 : (int)(left * 1000) + 1;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, wait);
        if (ready < 0 && errno != EINTR) { perror("delayline: poll"); break; }
        if (ready > 0) {
            for (int i = 0; i < 256; i++) { /* bounded: a flood cannot starve the releases */
                ssize_t got = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
                if (got < 0) {
                    if (errno == ENOBUFS) fprintf(stderr, "delayline: the kernel dropped queued packets (ENOBUFS)\n");
                    break;
                }
                nfq_handle_packet(handle, buffer, (int)got);
            }
        }
        release(queue, now());
    }
    release(queue, 1e300);
    nfq_destroy_queue(queue);
    nfq_close(handle);
    return 0;
}

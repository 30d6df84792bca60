// A libbpf application as people write them for the kernel: open the skeleton bpftool
// generated, set a read-only variable, load, run the program with bpf_prog_test_run_opts, and
// read the results from maps and from the global variables the skeleton maps into memory.
// Built with the xbpf_libbpf CMake target, its bpf() calls run on xbpf: no kernel, no root.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet_stats.skel.h"

static int verbose;

static int print_libbpf(enum libbpf_print_level level, const char* format, va_list args) {
    if (level == LIBBPF_DEBUG && !verbose) return 0;
    return vfprintf(stderr, format, args);
}

static int on_drop(void* ctx, void* data, size_t size) {
    int* events = ctx;
    if (size >= sizeof(__u32)) {
        printf("ring buffer: dropped a packet of %u bytes\n", *(const __u32*)data);
        ++*events;
    }
    return 0;
}

static int run_packet(int prog_fd, unsigned length) {
    unsigned char packet[2048];
    memset(packet, 0, sizeof packet);
    memset(packet, 0xff, ETH_ALEN);  // broadcast destination
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = length, .repeat = 1);
    int err = bpf_prog_test_run_opts(prog_fd, &opts);
    if (err) {
        fprintf(stderr, "test run of a %u-byte packet failed: %s\n", length, strerror(-err));
        return -1;
    }
    printf("packet of %u bytes: verdict %s\n", length,
           opts.retval == XDP_PASS   ? "pass"
           : opts.retval == XDP_DROP ? "drop"
                                     : "other");
    return 0;
}

int main(int argc, char** argv) {
    verbose = argc > 1 && strcmp(argv[1], "-v") == 0;  // libbpf's debug messages too
    libbpf_set_print(print_libbpf);
    struct packet_stats_bpf* skel = packet_stats_bpf__open();
    if (!skel) {
        fprintf(stderr, "cannot open the skeleton\n");
        return 1;
    }
    skel->rodata->drop_longer_than = 64;
    int err = packet_stats_bpf__load(skel);
    if (err) {
        fprintf(stderr, "cannot load the skeleton: %s\n", strerror(-err));
        packet_stats_bpf__destroy(skel);
        return 1;
    }

    const int prog_fd = bpf_program__fd(skel->progs.packet_stats);
    struct bpf_prog_info info;
    unsigned info_len = sizeof info;
    memset(&info, 0, sizeof info);
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &info_len) == 0) {
        printf("program %s: id %u, %u maps, %u bytes of xlated code\n", info.name, info.id,
               info.nr_map_ids, info.xlated_prog_len);
    }

    // Drops are reported through the ring buffer, which the consumer waits on with epoll.
    int events = 0;
    struct ring_buffer* ring =
        ring_buffer__new(bpf_map__fd(skel->maps.drops), on_drop, &events, NULL);
    if (!ring) {
        fprintf(stderr, "cannot watch the ring buffer: %s\n", strerror(errno));
        packet_stats_bpf__destroy(skel);
        return 1;
    }

    const unsigned lengths[] = {60, 100, 60, 1500};
    for (unsigned i = 0; i < sizeof lengths / sizeof lengths[0]; ++i) {
        if (run_packet(prog_fd, lengths[i]) != 0) {
            ring_buffer__free(ring);
            packet_stats_bpf__destroy(skel);
            return 1;
        }
    }

    // Wait (epoll) until the ring buffer has the drops, for at most a second.
    for (int tries = 0; events < 2 && tries < 10; ++tries)
        ring_buffer__poll(ring, 100);
    printf("ring buffer events: %d\n", events);
    ring_buffer__free(ring);

    // Global variables, read through the skeleton's mmapped .bss and .data.
    printf("packets=%llu total_bytes=%llu last_verdict=%s\n",
           (unsigned long long)skel->bss->packets, (unsigned long long)skel->bss->total_bytes,
           skel->data->last_verdict);

    // Maps, read through bpf() map commands.
    __u32 key = 0, next;
    __u32* prev = NULL;
    while (bpf_map__get_next_key(skel->maps.packets_by_length, prev, &next, sizeof next) == 0) {
        __u64 count = 0;
        bpf_map__lookup_elem(skel->maps.packets_by_length, &next, sizeof next, &count, sizeof count,
                             0);
        printf("length %u: %llu packets\n", next, (unsigned long long)count);
        key = next;
        prev = &key;
    }
    __u64 passed = 0, dropped = 0;
    __u32 pass = XDP_PASS, drop = XDP_DROP;
    bpf_map__lookup_elem(skel->maps.verdicts, &pass, sizeof pass, &passed, sizeof passed, 0);
    bpf_map__lookup_elem(skel->maps.verdicts, &drop, sizeof drop, &dropped, sizeof dropped, 0);
    printf("verdicts: pass=%llu drop=%llu\n", (unsigned long long)passed,
           (unsigned long long)dropped);

    packet_stats_bpf__destroy(skel);
    return 0;
}

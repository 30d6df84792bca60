// Loader test: global variables in .data, .rodata, .bss and custom .data.* / .rodata.*
// sections, and a .kconfig extern.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;

int counter = 5;
int second_counter = 9;
const volatile unsigned int threshold = 100;
unsigned long long total;
int custom_value SEC(".data.custom") = 42;
const int table[4] SEC(".rodata.tables") = {1, 2, 3, 4};

SEC("tc")
int use_globals(struct __sk_buff *skb) {
    counter++;
    second_counter += 2;
    total += skb->len;
    if (skb->len > threshold) return table[skb->len & 3];
    if (LINUX_KERNEL_VERSION < 0x050a00) return 2;
    return custom_value;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

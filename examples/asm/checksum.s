# Internet checksum (RFC 1071) of the buffer at r1, r2 bytes long (even).
# Returns 0 when the buffer is an IPv4 header whose checksum field is correct.
    mov %r0, 0              # running 32-bit sum
    mov %r3, 0              # byte offset
loop:
    jge %r3, %r2, fold
    mov %r4, %r1
    add %r4, %r3
    ldxh %r5, [%r4+0]
    be16 %r5                # the header is in network byte order
    add %r0, %r5
    add %r3, 2
    ja loop
fold:
    mov %r4, %r0
    rsh %r4, 16
    jeq %r4, 0, done
    and %r0, 0xffff
    add %r0, %r4
    ja fold
done:
    xor %r0, 0xffff
    exit

#include "abi/ring_events.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "abi/object_table.hpp"
#include "runtime/maps/futex.hpp"
#include "runtime/maps/ring_buffer.hpp"
#include "xbpf/bpf_abi.hpp"

namespace xbpf::abi {

RingEvents::RingEvents(RingBufMap& ring) : ring_(ring) {
    fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    maps::RingView view{ring_.region().data()};
    seen_at_start_ = view.control().wake_seq.load(std::memory_order_seq_cst);
    if (fd_ >= 0) thread_ = std::thread([this] { run(); });
}

RingEvents::~RingEvents() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
}

void RingEvents::run() {
    maps::RingView view{ring_.region().data()};
    auto& control = view.control();
    auto signal = [this] {
        const uint64_t one = 1;
        // EAGAIN: the counter is full, the consumer has plenty of wakeups pending anyway.
        [[maybe_unused]] auto written = write(fd_, &one, sizeof one);
    };
    // Wakeups are counted from the moment the ring is watched: data already there counts too.
    uint32_t seen = seen_at_start_;
    if (view.producer_pos().load() != view.consumer_pos().load()) signal();
    while (!stop_.load()) {
        control.waiters.fetch_add(1, std::memory_order_seq_cst);
        std::atomic<uint32_t>* words[] = {&control.wake_seq};
        const uint32_t expected[] = {seen};
        // A bounded wait, so that stop_ is noticed.
        maps::futex_wait_any(words, expected, 100);
        control.waiters.fetch_sub(1, std::memory_order_seq_cst);
        const uint32_t now = control.wake_seq.load(std::memory_order_seq_cst);
        if (now != seen) {
            seen = now;
            signal();
        }
    }
}

std::optional<int> epoll_ctl_object(EpollCtlFn real, int epfd, int op, int fd,
                                    struct epoll_event* event) {
    auto [object, err] = ObjectTable::instance().get(fd, ObjectKind::Map);
    if (err != 0) return std::nullopt;
    auto& map = static_cast<MapObject&>(*object);
    auto* ring = dynamic_cast<RingBufMap*>(map.map.get());
    if (ring == nullptr || map.map->type() != MapType::Ringbuf) {
        errno = EPERM;  // what epoll says of a file it cannot watch
        return -1;
    }
    std::call_once(map.events_once, [&] { map.events = std::make_shared<RingEvents>(*ring); });
    if (!map.events || map.events->fd() < 0) {
        errno = ENOMEM;
        return -1;
    }
    if (op == EPOLL_CTL_DEL || event == nullptr) return real(epfd, op, map.events->fd(), event);
    struct epoll_event edge = *event;
    edge.events |= EPOLLET;
    return real(epfd, op, map.events->fd(), &edge);
}

}  // namespace xbpf::abi

#include "runtime/core/registry.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

namespace xbpf {
namespace {

struct Registry {
    std::mutex mutex;
    std::map<uint32_t, std::weak_ptr<Program>> programs;
};

Registry& registry() {
    static Registry r;
    return r;
}

}  // namespace

namespace runtime {

uint32_t next_program_id() {
    static std::atomic<uint32_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

void register_program(const std::shared_ptr<Program>& program) {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    // Forget programs that are gone, so the table stays the size of what is alive.
    std::erase_if(r.programs, [](const auto& entry) { return entry.second.expired(); });
    r.programs.emplace(program->id(), program);
}

}  // namespace runtime

std::vector<std::shared_ptr<Program>> live_programs() {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    std::vector<std::shared_ptr<Program>> out;
    for (const auto& [id, weak] : r.programs) {
        if (auto p = weak.lock()) out.push_back(std::move(p));
    }
    return out;
}

std::shared_ptr<Program> find_program_by_id(uint32_t id) {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.programs.find(id);
    return it == r.programs.end() ? nullptr : it->second.lock();
}

}  // namespace xbpf

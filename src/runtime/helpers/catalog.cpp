// HelperCatalog: Linux's prototypes joined with xbpf's implementations.
#include <algorithm>

#include "runtime/helpers/implementations.hpp"
#include "runtime/helpers/linux_prototypes.hpp"
#include "xbpf/helpers.hpp"

namespace xbpf {

const HelperCatalog& HelperCatalog::linux_helpers() {
    // Built once, on first use; immutable afterwards, so threads may share it freely.
    static const HelperCatalog catalog = [] {
        HelperCatalog c;
        for (auto& def : helpers::linux_prototypes())
            c.add(std::move(def));
        for (const auto& impl : helpers::linux_implementations()) {
            auto it =
                std::lower_bound(c.helpers_.begin(), c.helpers_.end(), impl.id,
                                 [](const HelperDefinition& d, int32_t id) { return d.id < id; });
            if (it != c.helpers_.end() && it->id == impl.id) {
                it->function = impl.function;
                c.table_.set(impl.id, impl.function);
            }
        }
        return c;
    }();
    return catalog;
}

void HelperCatalog::add(HelperDefinition helper) {
    auto it = std::lower_bound(helpers_.begin(), helpers_.end(), helper.id,
                               [](const HelperDefinition& d, int32_t id) { return d.id < id; });
    // The table keeps the implementations by id; a verify-only helper leaves its slot empty,
    // so that preparing a program that calls it fails with the helper's name.
    table_.set(helper.id, helper.function);
    if (it != helpers_.end() && it->id == helper.id) {
        *it = std::move(helper);
    } else {
        helpers_.insert(it, std::move(helper));
    }
}

const HelperDefinition* HelperCatalog::find(int32_t id) const {
    auto it = std::lower_bound(helpers_.begin(), helpers_.end(), id,
                               [](const HelperDefinition& d, int32_t key) { return d.id < key; });
    return it != helpers_.end() && it->id == id ? &*it : nullptr;
}

}  // namespace xbpf

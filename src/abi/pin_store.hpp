// What a pin file says about its object, and how another process rebuilds the object from it.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "abi/objects.hpp"

namespace xbpf::abi {

// A description, or the errno why the object cannot be pinned.
struct PinDescription {
    nlohmann::json json;
    int err = 0;
    explicit operator bool() const { return err == 0; }
    const nlohmann::json& value() const { return json; }
    long error() const { return err; }
};

// Programs: a JSON description (type, instructions, their maps' files). Maps are pinned as their
// shared file itself (map_shared.hpp), not described.
PinDescription describe_for_pin(const AbiObject& object);

// The map in the shared map file at `path`, in this process's table (the same object when this
// process has it already); nullptr with -errno in `err` when it cannot be opened.
std::shared_ptr<MapObject> map_from_file(const std::filesystem::path& path, long* err);

// The object a pin file describes, rebuilt in this process with a descriptor for the caller;
// `error` (-errno) when it cannot be.
struct Rebuilt {
    std::shared_ptr<AbiObject> object;
    long fd = -1;
    long error = 0;
};
// Brings every object pinned in the pin namespace into this process (each keeps the id it gets
// here), so that listing ids shows what other processes pinned, as the kernel's global ids do.
void adopt_pinned_objects();

Rebuilt rebuild_from_pin(const nlohmann::json& description, const std::filesystem::path& path);

}  // namespace xbpf::abi

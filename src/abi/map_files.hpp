// Files that identify objects which have no file of their own.
#pragma once

namespace xbpf::abi {

// A memfd named `name` that identifies an object; -errno on failure.
int identity_file(const char* name);

}  // namespace xbpf::abi

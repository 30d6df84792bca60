// The kernel oracle: the running Linux kernel's verifier as a reference for xbpf's. It loads
// programs exactly as xbpf's loader sees them into the kernel with bpf(2) and compares the
// verdicts (oracle_corpus.cpp), and probes which helpers each program type may call
// (oracle_helpers.cpp). Needs root (or CAP_BPF and CAP_PERFMON); never part of the default
// test run.
#pragma once

#include <filesystem>
#include <string>

#include "kernel_object.hpp"
#include "xbpf/linux_names.hpp"
#include "xbpf/object.hpp"
#include "xbpf/verifier.hpp"

namespace xbpf::oracle {

// How a program is presented to BPF_PROG_LOAD besides its instructions.
struct LoadPlan {
    uint32_t prog_type = 0;
    uint32_t expected_attach_type = 0;
    uint32_t attach_btf_id = 0;
    std::string problem;  // non-empty: the program cannot be presented (no attach target...)
};

// The attach type (and BTF target) a program of `type` is loaded with: the one its section
// names when the section's type is `type`, else a plausible one for the type.
LoadPlan plan_load(const ProgramSpec& spec, ProgType type);

// The kernel's verdict on one program of a prepared object.
KernelVerdict kernel_verdict(const Object& object, const ProgramSpec& spec,
                             const KernelObject& kobj, const LoadPlan& plan);

// xbpf's verdict, as the corpus test reaches it (privileged).
VerifierReport xbpf_verdict(const Object& object, const ProgramSpec& spec, ProgType type);

struct CorpusOptions {
    std::filesystem::path corpus;
    std::filesystem::path table;  // TSV output; empty: none
    bool check = false;           // fail when the kernel accepts what xbpf rejects
    bool verbose = false;
};
int run_corpus_oracle(const CorpusOptions& options);

struct HelperProbeOptions {
    std::string type;  // only this program type; empty: all
    bool verbose = false;
    bool list = false;  // print the kernel's helper ids per type and attach type
};
int run_helper_probe(const HelperProbeOptions& options);

// docs/program-types.md's per-type section, from the registry (needs no kernel).
int print_types_doc();

// One object: every program (or those of `program`), as `type` or its section's type.
int run_object_oracle(const std::filesystem::path& file, const std::string& type,
                      const std::string& program);

}  // namespace xbpf::oracle

// The corpus through the kernel and through xbpf: one row per label with both verdicts, and a
// summary of where the labels, the kernel and xbpf agree.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>

#include "oracle.hpp"
#include "unit/verifier/corpus_labels.hpp"

namespace xbpf::oracle {

namespace {

struct Row {
    test::CorpusLabel label;
    std::string type;
    std::string kernel;  // accept, reject, n/a (could not be presented to the kernel)
    std::string kernel_message;
    uint64_t kernel_processed = 0;
    uint64_t kernel_usec = 0;
    std::string xbpf;  // accept, reject
    std::string xbpf_reason;
    uint64_t xbpf_visits = 0;
    double xbpf_seconds = 0;
};

std::string one_line(std::string s) {
    std::replace(s.begin(), s.end(), '\t', ' ');
    if (const auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
    return s;
}

struct LoadedFile {
    std::optional<Object> object;
    std::string error;
    KernelObject kernel;
};

LoadedFile load_file(const std::filesystem::path& path) {
    LoadedFile f;
    auto object = load_object_file(path);
    if (!object) {
        f.error = object.error().to_string();
        return f;
    }
    std::ifstream in(path, std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    f.kernel = make_kernel_object(*object, bytes);
    f.object = std::move(*object);
    return f;
}

Row judge(const test::CorpusLabel& label, LoadedFile& file) {
    Row row;
    row.label = label;
    row.type = test::verify_type_name(label);
    if (!file.object) {
        row.kernel = row.xbpf = "n/a";
        row.kernel_message = row.xbpf_reason = "xbpf's loader refuses the object: " + file.error;
        row.xbpf = "reject";
        return row;
    }
    const ProgramSpec* spec = nullptr;
    for (const auto& p : file.object->programs) {
        if (p.section == label.section && p.name == label.function) spec = &p;
    }
    if (spec == nullptr) {
        row.kernel = "n/a";
        row.xbpf = "reject";
        row.kernel_message = row.xbpf_reason = "the loader does not list this program";
        return row;
    }
    const auto type = prog_type_from_name(row.type);
    if (!type) {
        row.kernel = "n/a";
        row.xbpf = "reject";
        row.kernel_message = row.xbpf_reason = "unknown program type " + row.type;
        return row;
    }
    const KernelVerdict k =
        kernel_verdict(*file.object, *spec, file.kernel, plan_load(*spec, *type));
    row.kernel = k.accepted ? "accept" : (k.error != 0 ? "reject" : "n/a");
    row.kernel_message = one_line(k.first_line);
    row.kernel_processed = k.processed;
    row.kernel_usec = k.kernel_usec;
    const VerifierReport x = xbpf_verdict(*file.object, *spec, *type);
    row.xbpf = x.accepted ? "accept" : "reject";
    row.xbpf_reason =
        x.accepted ? "" : one_line(x.pc ? fmt::format("{}: {}", *x.pc, x.reason) : x.reason);
    row.xbpf_visits = x.stats.visited_instructions;
    row.xbpf_seconds = x.stats.seconds;
    return row;
}

void write_table(const std::filesystem::path& path, const std::vector<Row>& rows) {
    std::ofstream out(path);
    out << "dir\tfile\tsection\tfunction\texpected\tlabel_linux\ttype\tkernel\tkernel_message\t"
           "kernel_insns\tkernel_usec\txbpf\txbpf_reason\txbpf_visits\txbpf_seconds\n";
    for (const auto& r : rows) {
        out << fmt::format("{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.4f}\n",
                           r.label.dir, r.label.file, r.label.section, r.label.function,
                           r.label.expected, r.label.linux_verdict, r.type, r.kernel,
                           r.kernel_message, r.kernel_processed, r.kernel_usec, r.xbpf,
                           r.xbpf_reason, r.xbpf_visits, r.xbpf_seconds);
    }
}

std::string row_name(const Row& r) {
    return fmt::format("{}/{} {} {} ({})", r.label.dir, r.label.file, r.label.section,
                       r.label.function, r.type);
}

}  // namespace

int run_corpus_oracle(const CorpusOptions& options) {
    auto labels = test::read_corpus_labels(options.corpus / "labels.csv");
    if (labels.empty()) {
        std::cerr << "no labels in " << (options.corpus / "labels.csv") << "\n";
        return 2;
    }
    std::stable_sort(labels.begin(), labels.end(), [](const auto& a, const auto& b) {
        return std::tie(a.dir, a.file) < std::tie(b.dir, b.file);
    });
    std::vector<Row> rows;
    std::string current;
    LoadedFile file;
    for (const auto& label : labels) {
        const std::string key = label.dir + "/" + label.file;
        if (key != current) {
            file = LoadedFile{};  // closes the previous object's maps first
            file = load_file(options.corpus / key);
            current = key;
        }
        rows.push_back(judge(label, file));
        if (options.verbose) {
            const Row& r = rows.back();
            std::cout << fmt::format("{}: label {}, kernel {} {}, xbpf {} {}\n", row_name(r),
                                     r.label.expected, r.kernel, r.kernel_message, r.xbpf,
                                     r.xbpf_reason);
        }
    }
    if (!options.table.empty()) write_table(options.table, rows);

    // Labels against the kernel here, and xbpf against the kernel.
    int label_agree = 0, label_disagree = 0, not_judged = 0;
    int both_accept = 0, both_reject = 0, gaps = 0, kernel_rejects_xbpf_accepts = 0;
    uint64_t kernel_usec_both = 0;
    double xbpf_seconds_both = 0;
    std::vector<const Row*> disagreements, precision_gaps, xbpf_only;
    for (const auto& r : rows) {
        if (r.kernel == "n/a") {
            ++not_judged;
        } else if (r.label.expected == "accept" || r.label.expected == "reject") {
            if (r.label.expected == r.kernel) {
                ++label_agree;
            } else {
                ++label_disagree;
                disagreements.push_back(&r);
            }
        }
        if (r.kernel == "accept" && r.xbpf == "accept") {
            ++both_accept;
            kernel_usec_both += r.kernel_usec;
            xbpf_seconds_both += r.xbpf_seconds;
        } else if (r.kernel == "reject" && r.xbpf == "reject") {
            ++both_reject;
        } else if (r.kernel == "accept" && r.xbpf == "reject") {
            ++gaps;
            precision_gaps.push_back(&r);
        } else if (r.kernel == "reject" && r.xbpf == "accept") {
            ++kernel_rejects_xbpf_accepts;
            xbpf_only.push_back(&r);
        }
    }
    std::cout << fmt::format(
        "kernel oracle over {} labelled programs ({} not presentable to the kernel)\n"
        "labels vs kernel here: {} agree, {} disagree (accept/reject labels)\n",
        rows.size(), not_judged, label_agree, label_disagree);
    for (const Row* r : disagreements) {
        std::cout << fmt::format("  label {} but kernel {}: {}: {}\n", r->label.expected, r->kernel,
                                 row_name(*r), r->kernel_message);
    }
    std::cout << fmt::format(
        "xbpf vs kernel: {} both accept, {} both reject, {} kernel accepts and xbpf rejects, "
        "{} kernel rejects and xbpf accepts\n",
        both_accept, both_reject, gaps, kernel_rejects_xbpf_accepts);
    for (const Row* r : precision_gaps) {
        std::cout << fmt::format("  precision gap: {}: xbpf: {}\n", row_name(*r), r->xbpf_reason);
    }
    for (const Row* r : xbpf_only) {
        std::cout << fmt::format("  xbpf accepts, kernel rejects ({}): {}: {}\n", r->label.expected,
                                 row_name(*r), r->kernel_message);
    }
    std::cout << fmt::format(
        "time on the {} programs both accept: kernel {:.3f} s (its own verification time), xbpf "
        "{:.3f} s\n",
        both_accept, static_cast<double>(kernel_usec_both) / 1e6, xbpf_seconds_both);
    return options.check && gaps > 0 ? 1 : 0;
}

}  // namespace xbpf::oracle

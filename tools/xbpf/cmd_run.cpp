// xbpf run: the main job. Verifies a packet program, replays a capture through it, writes what
// gets through, and reports the verdicts, the speed and the maps.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "object_args.hpp"
#include "xbpf/replay.hpp"

namespace xbpf::cli {
namespace {

// A one-line progress bar on stderr, only when stderr is a terminal.
class ProgressBar {
  public:
    ProgressBar() : enabled_(isatty(STDERR_FILENO) != 0) {}
    void update(uint64_t done, uint64_t total) {
        if (!enabled_ || total == 0) return;
        const int percent = static_cast<int>(done * 100 / total);
        if (percent == last_) return;
        last_ = percent;
        const int width = 40;
        const int filled = percent * width / 100;
        std::fprintf(stderr, "\r[%s%s] %3d%%",
                     std::string(static_cast<size_t>(filled), '#').c_str(),
                     std::string(static_cast<size_t>(width - filled), ' ').c_str(), percent);
        std::fflush(stderr);
    }
    ~ProgressBar() {
        if (enabled_ && last_ >= 0) std::fprintf(stderr, "\r%*s\r", 50, "");
    }

  private:
    bool enabled_;
    int last_ = -1;
};

Command add_run(CLI::App& app) {
    struct Args {
        std::string file;
        std::string pcap;
        std::string out;
        uint32_t repeat = 1;
        ObjectArgs object;
        OutputFlags output;
    };
    auto args = std::make_shared<Args>();
    CLI::App* sub = app.add_subcommand(
        "run",
        "Verify an XDP (or tc, socket filter) program and run it over every frame of a capture");
    sub->add_option("FILE", args->file, "eBPF object (.o) built by clang")->required();
    sub->add_option("--pcap", args->pcap, "Capture to replay (pcap or pcapng, Ethernet)")
        ->required();
    sub->add_option("--out", args->out,
                    "Write the frames that get through (passed, transmitted, modified) here");
    sub->add_option("--repeat", args->repeat,
                    "Replay the capture this many times (for speed figures)")
        ->check(CLI::PositiveNumber);
    args->object.add_to(*sub);
    args->output.add_to(*sub);
    sub->footer(
        "Example: xbpf run build/examples/xdp_firewall.o --pcap build/examples/traffic.pcap "
        "--map-init examples/firewall_rules.json --out passed.pcap");

    return {
        sub, [args]() -> int {
            auto loaded = args->object.load(args->file);
            if (!loaded) return report(loaded.error());
            const Program& program = *loaded->program;
            ReplayOptions options;
            options.output = args->out;
            options.repeat = args->repeat;
            const auto globals = program.global_data_regions();
            options.extra_regions = globals;
            ProgressBar bar;
            options.progress = [&bar](uint64_t done, uint64_t total) { bar.update(done, total); };
            auto stats = replay_capture(program.executable(), program.type(), args->pcap, options);
            if (!stats) return report(stats.error());
            if (auto s = args->object.dump_maps(*loaded->object); !s) return report(s.error());
            const double pps =
                stats->program_seconds > 0 ? stats->packets / stats->program_seconds : 0;
            if (args->output.wants_json()) {
                args->output.print(
                    {{"program", program.name()},
                     {"type", program.type().name},
                     {"engine",
                      program.executable().engine() == EngineKind::Jit ? "jit" : "interp"},
                     {"packets", stats->packets},
                     {"actions",
                      {{"pass", stats->pass},
                       {"drop", stats->drop},
                       {"tx", stats->tx},
                       {"redirect", stats->redirect},
                       {"aborted", stats->aborted}}},
                     {"written", stats->written},
                     {"seconds", stats->program_seconds},
                     {"packets_per_second", pps},
                     {"maps", maps_json(*loaded->object)}});
                return kExitOk;
            }
            std::cout << fmt::format(
                "{} ({}, {}) over {}: {} packets in {:.3f} s ({:.2f} Mpps in the program)\n",
                program.name(), program.type().name,
                program.executable().engine() == EngineKind::Jit ? "jit" : "interpreter",
                args->pcap, stats->packets, stats->total_seconds, pps / 1e6);
            std::cout << fmt::format("  pass {}  drop {}  tx {}  redirect {}  aborted {}\n",
                                     stats->pass, stats->drop, stats->tx, stats->redirect,
                                     stats->aborted);
            if (!args->out.empty()) {
                std::cout << fmt::format("  wrote {} frames to {}\n", stats->written, args->out);
            }
            std::cout << "maps:\n" << maps_text(*loaded->object);
            return kExitOk;
        }};
}

}  // namespace

XBPF_REGISTER_COMMAND("run", add_run);

}  // namespace xbpf::cli

// xbpf: the command line. Each subcommand lives in its own cmd_*.cpp.
#include <algorithm>
#include <iostream>

#include "cli.hpp"

int main(int argc, char** argv) {
    using namespace xbpf::cli;
    CLI::App app{
        "xbpf: eBPF in user space. Loads, verifies and runs eBPF programs without a kernel.",
        "xbpf"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Show help for every subcommand");

    auto factories = command_factories();
    std::sort(factories.begin(), factories.end());
    std::vector<Command> commands;
    for (const auto& [name, factory] : factories)
        commands.push_back(factory(app));
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return kExitUsage;
    }
    for (auto& command : commands) {
        if (command.app->parsed()) return command.run();
    }
    return kExitUsage;
}

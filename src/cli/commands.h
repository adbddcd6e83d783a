// Every subcommand: a setup_ function that adds it to the app and returns its runner.
// main.cpp only wires them (CLI11 examples/subcom_in_files).
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace imsm::cli {

using Runner = std::function<int()>;

Runner setup_decode(CLI::App& app);
Runner setup_model(CLI::App& app);
Runner setup_collect(CLI::App& app);
Runner setup_readings(CLI::App& app);
Runner setup_events(CLI::App& app);
Runner setup_meters(CLI::App& app);
Runner setup_report(CLI::App& app);
Runner setup_rebuild(CLI::App& app);
Runner setup_simulate(CLI::App& app);
Runner setup_accuracy(CLI::App& app);
Runner setup_meter(CLI::App& app);
Runner setup_serve(CLI::App& app);
Runner setup_demo(CLI::App& app);

}  // namespace imsm::cli

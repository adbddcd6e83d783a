// imsmeter decode [--hex HEX]... [FILE|-]: frames from hex strings or a raw capture
// (SPEC "Command-line contract"). JSON Lines (or a table) on stdout, a summary on stderr.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/frame_format.h"
#include "common/hex.h"
#include "io/capture_reader.h"
#include "protocol/stream_framer.h"

namespace imsm::cli {

namespace {

struct DecodeOptions {
  std::vector<std::string> hex;
  std::string file;
  std::string format = "jsonl";
  double gap_ms = 20.0;
  std::optional<std::string> times;
  bool no_times = false;
};

class FrameWriter {
 public:
  explicit FrameWriter(bool table) : table_(table) { buf_.reserve(kFlushAt + 4096); }
  ~FrameWriter() { flush(); }
  void write(const protocol::LocatedFrame& f, bool timed) {
    if (table_) {
      if (!header_done_) append_table_header(buf_, timed);
      header_done_ = true;
      append_table_row(buf_, f, timed);
    } else {
      append_frame_json(buf_, f);
    }
    if (buf_.size() >= kFlushAt) flush();
  }
  void flush() {
    if (!buf_.empty()) std::fwrite(buf_.data(), 1, buf_.size(), stdout);
    buf_.clear();
    std::fflush(stdout);
  }

 private:
  static constexpr std::size_t kFlushAt = 1 << 20;
  bool table_;
  bool header_done_ = false;
  std::string buf_;
};

void print_summary(const char* what, const protocol::StreamFramer& framer) {
  const auto& s = framer.skipped();
  std::fprintf(stderr,
               "decode: %s: %llu frames, %llu bytes, %llu skipped (no_stop_byte %llu, "
               "non_zero_padding %llu, cut_by_gap %llu, cut_at_end %llu)\n",
               what, static_cast<unsigned long long>(framer.frames_out()),
               static_cast<unsigned long long>(framer.bytes_in()),
               static_cast<unsigned long long>(s.total()),
               static_cast<unsigned long long>(s[protocol::SkipReason::NoStopByte]),
               static_cast<unsigned long long>(s[protocol::SkipReason::NonZeroPadding]),
               static_cast<unsigned long long>(s[protocol::SkipReason::CutByGap]),
               static_cast<unsigned long long>(s[protocol::SkipReason::CutAtEnd]));
}

int run_decode(const DecodeOptions& o) {
  if (o.format != "jsonl" && o.format != "json" && o.format != "table")
    throw UsageError("decode: --format must be jsonl or table, not '" + o.format + "'");
  if (!(o.gap_ms > 0.0 && o.gap_ms <= 60'000.0))
    throw UsageError("decode: --gap-ms must be between 0 and 60000");
  if (o.times && o.no_times) throw UsageError("decode: --times and --no-times exclude each other");

  // Parse every hex string before printing anything, so bad input prints no frame.
  std::vector<std::vector<std::uint8_t>> hex_inputs;
  for (const auto& h : o.hex) {
    auto& bytes = hex_inputs.emplace_back();
    if (auto err = parse_hex(h, bytes))
      throw UsageError(fmt::format("decode: --hex '{}': expected {} at position {}", h, err->what,
                                   err->position));
  }
  const protocol::FramerOptions fo{std::chrono::duration_cast<protocol::Nanos>(
      std::chrono::duration<double, std::milli>(o.gap_ms))};
  const bool table = o.format == "table";
  FrameWriter writer(table);

  for (std::size_t i = 0; i < hex_inputs.size(); ++i) {
    protocol::StreamFramer framer(fo);
    std::vector<protocol::LocatedFrame> frames;
    framer.push(hex_inputs[i], frames);
    framer.finish(frames);
    for (const auto& f : frames) writer.write(f, false);
    print_summary(fmt::format("hex {}", i + 1).c_str(), framer);
  }

  const bool read_stream = !o.file.empty() || o.hex.empty();
  if (read_stream) {
    const std::string path = o.file.empty() ? "-" : o.file;
    std::optional<io::CaptureReader> reader;
    if (auto err = io::CaptureReader::open(path, o.times, !o.no_times, reader)) {
      if (err->kind == io::CaptureError::Kind::BadTimes)
        throw UsageError("decode: " + err->message);
      throw RuntimeError("decode: " + err->message);
    }
    protocol::StreamFramer framer(fo);
    const bool timed = reader->timed();
    auto failure = reader->run(framer, [&](std::vector<protocol::LocatedFrame>& frames) {
      for (const auto& f : frames) writer.write(f, timed);
      if (reader->live()) writer.flush();  // a live port: show each frame as it arrives
    });
    writer.flush();
    if (failure) throw RuntimeError("decode: " + *failure);
    print_summary(reader->path().c_str(), framer);
  }
  writer.flush();
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

Runner setup_decode(CLI::App& app) {
  auto opt = std::make_shared<DecodeOptions>();
  CLI::App* sub = app.add_subcommand("decode", "Decode frames from hex strings or a raw capture");
  sub->add_option("--hex", opt->hex, "A frame or byte stream as hex (spaces allowed); repeatable");
  sub->add_option("file", opt->file, "Raw capture file, or - for standard input");
  sub->add_option("--format", opt->format, "Output: jsonl (default) or table");
  sub->add_option("--gap-ms", opt->gap_ms,
                  "Idle gap that ends a partial frame, in milliseconds (default 20)");
  sub->add_option("--times", opt->times,
                  "Timing sidecar for the capture (default: FILE.times when present)");
  sub->add_flag("--no-times", opt->no_times, "Ignore FILE.times even when present");
  sub->footer(
      "Exit codes: 0 done (also when no frame is found), 1 unreadable input, 2 bad arguments.");
  return [opt] { return run_decode(*opt); };
}

}  // namespace imsm::cli

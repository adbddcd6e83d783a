// imsmeter decode [--hex HEX]... [FILE|-]: frames from hex strings or a raw capture
// (SPEC "Command-line contract"). JSON Lines (or CSV, or a table) on stdout, a summary on
// stderr.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/frame_format.h"
#include "collector/sources/framed_capture.h"
#include "collector/time_util.h"
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

enum class Format { Jsonl, Table, Csv };

Format parse_format(const std::string& text) {
  if (text == "jsonl" || text == "json") return Format::Jsonl;
  if (text == "table") return Format::Table;
  if (text == "csv") return Format::Csv;
  throw UsageError("decode: --format must be jsonl, csv or table, not '" + text + "'");
}

class FrameWriter {
 public:
  explicit FrameWriter(Format format) : format_(format) { buf_.reserve(kFlushAt + 4096); }
  ~FrameWriter() { flush(); }
  // `at`: the wall-clock time of a live frame (ISO 8601 UTC), empty otherwise.
  void write(const protocol::LocatedFrame& f, bool timed, std::string_view at = {}) {
    const bool header = !header_done_;
    header_done_ = true;
    switch (format_) {
      case Format::Table:
        if (header) append_table_header(buf_, timed, !at.empty());
        append_table_row(buf_, f, timed, at);
        break;
      case Format::Csv:
        if (header) append_csv_header(buf_, timed, !at.empty());
        append_csv_row(buf_, f, timed, at);
        break;
      case Format::Jsonl:
        append_frame_json(buf_, f, at);
        break;
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
  Format format_;
  bool header_done_ = false;
  std::string buf_;
};

void print_summary(const char* what, const protocol::StreamFramer& framer) {
  const auto& s = framer.skipped();
  // decode shows the earliest-valid-window frames (SPEC "Framing a stream"); the alternative
  // windows the framer also offers the collector's validator are left out.
  const auto frames = framer.frames_out() - framer.alternatives_out();
  std::fprintf(stderr,
               "decode: %s: %llu %s, %llu bytes, %llu skipped (no_stop_byte %llu, "
               "non_zero_padding %llu, cut_by_gap %llu, cut_at_end %llu)\n",
               what, static_cast<unsigned long long>(frames), frames == 1 ? "frame" : "frames",
               static_cast<unsigned long long>(framer.bytes_in()),
               static_cast<unsigned long long>(s.total()),
               static_cast<unsigned long long>(s[protocol::SkipReason::NoStopByte]),
               static_cast<unsigned long long>(s[protocol::SkipReason::NonZeroPadding]),
               static_cast<unsigned long long>(s[protocol::SkipReason::CutByGap]),
               static_cast<unsigned long long>(s[protocol::SkipReason::CutAtEnd]));
}

std::atomic<bool> g_stop{false};

extern "C" void on_decode_stop_signal(int) {
  g_stop.store(true);
}

// A live port is read until it hangs up or the user stops it: SIGINT/SIGTERM end the read
// and the summary is still printed (exit 0).
void stop_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_decode_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::int64_t unix_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void decode_stream(const DecodeOptions& o, const protocol::FramerOptions& fo, FrameWriter& writer) {
  const std::string path = o.file.empty() ? "-" : o.file;
  std::optional<io::CaptureReader> reader;
  if (auto err = io::CaptureReader::open(path, o.times, !o.no_times, reader)) {
    if (err->kind == io::CaptureError::Kind::BadTimes) throw UsageError("decode: " + err->message);
    throw RuntimeError("decode: " + err->message);
  }
  if (reader->empty_times())
    std::fprintf(stderr, "decode: %s holds no timing line: frames are decoded without times\n",
                 reader->empty_times()->c_str());
  protocol::StreamFramer framer(fo);
  const bool timed = reader->timed();
  const bool live = reader->live();
  // Live frames carry seconds since the port was opened and the wall-clock time.
  const std::int64_t start_us = unix_now_us();
  if (live) {
    stop_on_signals();
    reader->stop_when(&g_stop);
  }
  collector::FramedCapture capture(framer, [&](std::vector<protocol::LocatedFrame>& frames) {
    for (const auto& f : frames) {
      if (f.overlaps) continue;
      if (!live || !f.time) {
        writer.write(f, timed);
        continue;
      }
      writer.write(f, timed, collector::format_utc(start_us + f.time->count() / 1000));
    }
    if (live) writer.flush();  // a live port: show each frame as it arrives
  });
  auto failure = capture.run(*reader);
  writer.flush();
  if (failure) throw RuntimeError("decode: " + *failure);
  print_summary(reader->path().c_str(), framer);
  if (g_stop.load()) std::fprintf(stderr, "decode: stopped by signal\n");
}

int run_decode(const DecodeOptions& o) {
  const Format format = parse_format(o.format);
  if (!(o.gap_ms > 0.0 && o.gap_ms <= 60'000.0))
    throw UsageError(
        fmt::format("decode: --gap-ms {}: must be more than 0 and at most 60000", o.gap_ms));
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
  FrameWriter writer(format);

  for (std::size_t i = 0; i < hex_inputs.size(); ++i) {
    protocol::StreamFramer framer(fo);
    std::vector<protocol::LocatedFrame> frames;
    framer.push(hex_inputs[i], frames);
    framer.finish(frames);
    for (const auto& f : frames) writer.write(f, false);
    print_summary(fmt::format("hex {}", i + 1).c_str(), framer);
  }

  if (!o.file.empty() || o.hex.empty()) decode_stream(o, fo, writer);
  writer.flush();
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

Runner setup_decode(CLI::App& app) {
  auto opt = std::make_shared<DecodeOptions>();
  CLI::App* sub = app.add_subcommand("decode", "Decode frames from hex strings or a raw capture");
  // One value per --hex, so `decode --hex 000a... capture.bin` reads capture.bin as a file.
  sub->add_option("--hex", opt->hex,
                  "A frame or byte stream as hex (spaces allowed); repeat --hex for more")
      ->allow_extra_args(false);
  sub->add_option("file", opt->file, "Raw capture file, or - for standard input");
  sub->add_option("--format", opt->format, "Output: jsonl (default), csv or table");
  sub->add_option("--gap-ms", opt->gap_ms,
                  "Idle gap that ends a partial frame, in milliseconds (default 20)");
  sub->add_option("--times", opt->times,
                  "Timing sidecar for the capture (default: FILE.times when present)");
  sub->add_flag("--no-times", opt->no_times, "Ignore FILE.times even when present");
  sub->footer(
      "A live port (serial or pty) is read until it hangs up or SIGINT/SIGTERM; its frames also "
      "carry \"at\", the wall-clock time (UTC).\nExit codes: 0 done (also when no frame is found, "
      "and after SIGINT/SIGTERM on a live port), 1 unreadable input, 2 bad arguments or a bad "
      "timing sidecar.");
  return [opt] { return run_decode(*opt); };
}

}  // namespace imsm::cli

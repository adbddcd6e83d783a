#include "sim/truth_writer.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "common/hex.h"
#include "common/text.h"

namespace imsm::sim {

namespace {

void append_json_quoted(std::string& out, const std::string& s) {
  out.push_back('"');
  append_json_escaped(out, s);
  out.push_back('"');
}

}  // namespace

void append_truth_json(std::string& out, const TruthRecord& r, const std::string& bus,
                       std::uint16_t meter_id) {
  out.append("{\"t_s\":");
  append_seconds_us(out, r.t_ns);  // bus times are whole microseconds
  out.append(",\"bus\":");
  append_json_quoted(out, bus);
  out.append(",\"meter_id\":");
  append_int(out, meter_id);
  out.append(",\"raw\":\"");
  append_hex(out, r.raw.data(), r.raw.size());
  out.append("\",\"intact\":");
  out.append(r.intact ? "true" : "false");
  out.append(",\"offset\":");
  append_int(out, r.offset);
  out.append(",\"true_mwh\":");
  append_int(out, r.true_mwh);
  out.append(",\"registered_mwh\":");
  append_int(out, r.registered_mwh);
  out.push_back('}');
}

TruthWriter::TruthWriter(const std::string& path) : path_(path) {
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) throw std::runtime_error(path + ": " + std::strerror(errno));
  buf_.reserve(1 << 20);
}

TruthWriter::~TruthWriter() {
  flush();
  if (f_) std::fclose(f_);
}

void TruthWriter::write(const TruthRecord& r, const std::string& bus, std::uint16_t meter_id) {
  append_truth_json(buf_, r, bus, meter_id);
  buf_.push_back('\n');
  ++lines_;
  if (buf_.size() >= (1 << 20)) flush();
}

void TruthWriter::flush() {
  if (!buf_.empty() && f_) {
    if (std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size())
      throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
  }
  buf_.clear();
  if (f_) std::fflush(f_);
}

}  // namespace imsm::sim

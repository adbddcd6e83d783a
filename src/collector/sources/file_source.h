// Replay of a raw capture (`file:PATH` or `-`): arrival times from PATH.times when present,
// offset by the replay start, so idle gaps and plausibility see the recorded clock. The
// source finishes when the file is consumed.
#pragma once

#include <optional>

#include "collector/sources/source.h"
#include "io/capture_reader.h"

namespace imsm::collector {

class FileSource : public Source {
 public:
  using Source::Source;
  void open() override;
  void run() override;
  [[nodiscard]] bool live() const override { return false; }
  [[nodiscard]] bool timed() const { return reader_ && reader_->timed(); }

 private:
  std::optional<io::CaptureReader> reader_;
  bool consumed_ = false;  // an earlier run read it to its end: nothing to do
};

}  // namespace imsm::collector

#include "collector/store/reading_blocks.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "common/text.h"

namespace imsm::collector {

namespace {

bool before(const Reading& a, const Reading& b) {
  return a.received_at != b.received_at ? a.received_at < b.received_at : a.frame_id < b.frame_id;
}

// A strict reader of the block grammar: '[' rows ']' where a row is '[' 7 integers ']'.
class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool integer(std::int64_t& v) {
    const bool neg = eat('-');
    const std::size_t start = i_;
    std::uint64_t x = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      if (i_ - start >= 18) return false;  // beyond any stored value: not ours
      x = x * 10 + static_cast<std::uint64_t>(s_[i_] - '0');
      ++i_;
    }
    if (i_ == start) return false;
    v = neg ? -static_cast<std::int64_t>(x) : static_cast<std::int64_t>(x);
    return true;
  }
  [[nodiscard]] bool done() const { return i_ == s_.size(); }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

template <class T>
bool in_range(std::int64_t v) {
  return v >= 0 && static_cast<std::uint64_t>(v) <= std::numeric_limits<T>::max();
}

}  // namespace

void encode_block(const std::vector<Reading>& rows, std::string& out) {
  out.clear();
  out += '[';
  for (const Reading& r : rows) {
    if (out.size() > 1) out += ',';
    out += '[';
    append_int(out, r.received_at);
    out += ',';
    append_int(out, r.frame_id);
    out += ',';
    append_int(out, static_cast<std::int64_t>(r.epoch));
    out += ',';
    append_int(out, r.total_kwh);
    out += ',';
    append_int(out, static_cast<std::int64_t>(r.kwh24));
    out += ',';
    append_int(out, static_cast<std::int64_t>(r.peak_demand_counts));
    out += ',';
    append_int(out, static_cast<std::int64_t>(r.demand_resets));
    out += ']';
  }
  out += ']';
}

namespace {
bool parse_block(std::string_view text, std::uint16_t meter, std::vector<Reading>& out) {
  Parser p(text);
  if (!p.eat('[')) return false;
  const std::size_t first = out.size();
  bool ordered = true;
  if (!p.eat(']')) {
    do {
      std::int64_t v[7];
      if (!p.eat('[')) return false;
      for (int i = 0; i < 7; ++i)
        if ((i > 0 && !p.eat(',')) || !p.integer(v[i])) return false;
      if (!p.eat(']')) return false;
      if (!in_range<std::uint32_t>(v[2]) || !in_range<std::uint32_t>(v[4]) ||
          !in_range<std::uint16_t>(v[5]) || !in_range<std::uint8_t>(v[6]))
        return false;
      Reading r;
      r.meter_id = meter;
      r.received_at = v[0];
      r.frame_id = v[1];
      r.epoch = static_cast<std::uint32_t>(v[2]);
      r.total_kwh = v[3];
      r.kwh24 = static_cast<std::uint32_t>(v[4]);
      r.peak_demand_counts = static_cast<std::uint16_t>(v[5]);
      r.demand_resets = static_cast<std::uint8_t>(v[6]);
      if (out.size() > first && before(r, out.back())) ordered = false;
      out.push_back(r);
    } while (p.eat(','));
    if (!p.eat(']')) return false;
  }
  if (!p.done()) return false;
  // Blocks written by this code are ordered; one written by hand or by SQL may not be.
  if (!ordered)
    std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(), before);
  return true;
}
}  // namespace

bool decode_block(std::string_view text, std::uint16_t meter, std::vector<Reading>& out) {
  const std::size_t had = out.size();
  if (parse_block(text, meter, out)) return true;
  out.resize(had);
  return false;
}

ReadingBlocks::ReadingBlocks(SQLite::Database& db)
    : db_(db),
      upsert_(db,
              "INSERT OR REPLACE INTO reading_blocks(meter_id, hour, n, readings) "
              "VALUES (?,?,?,?)"),
      erase_(db, "DELETE FROM reading_blocks WHERE meter_id = ? AND hour = ?"),
      select_one_(db, "SELECT readings FROM reading_blocks WHERE meter_id = ? AND hour = ?"),
      newest_(db, "SELECT max(hour) FROM reading_blocks WHERE meter_id = ? HAVING count(*) > 0"),
      range_asc_(std::make_unique<SQLite::Statement>(db, range_sql(false))),
      range_desc_(std::make_unique<SQLite::Statement>(db, range_sql(true))) {}

const char* ReadingBlocks::range_sql(bool newest_first) {
  return newest_first ? "SELECT hour, readings FROM reading_blocks "
                        "WHERE meter_id = ? AND hour BETWEEN ? AND ? ORDER BY hour DESC"
                      : "SELECT hour, readings FROM reading_blocks "
                        "WHERE meter_id = ? AND hour BETWEEN ? AND ? ORDER BY hour";
}

void ReadingBlocks::corrupt(std::uint16_t meter, std::int64_t hour) {
  throw std::runtime_error(fmt::format(
      "reading_blocks: the block of meter {} hour {} is not a readings block", meter, hour));
}

// The meter's newest block: its hour is read from the table on the meter's first reading
// since start, its readings when a reading of that `hour` needs them.
ReadingBlocks::Open& ReadingBlocks::open_for(std::uint16_t meter, std::int64_t hour) {
  auto [it, fresh] = open_.try_emplace(meter);
  Open& o = it->second;
  if (fresh) {
    newest_.reset();
    newest_.bind(1, static_cast<int>(meter));
    if (newest_.executeStep()) {
      o.hour = newest_.getColumn(0).getInt64();
      o.loaded = false;
    }
    newest_.reset();
  }
  if (!o.loaded && hour == o.hour) {
    o.rows = load(meter, o.hour);
    o.loaded = true;
  }
  return o;
}

std::vector<Reading> ReadingBlocks::load(std::uint16_t meter, std::int64_t hour) {
  std::vector<Reading> rows;
  select_one_.reset();
  select_one_.bind(1, static_cast<int>(meter));
  select_one_.bind(2, hour);
  if (select_one_.executeStep()) {
    const auto& col = select_one_.getColumn(0);
    if (!decode_block(std::string_view(static_cast<const char*>(col.getBlob()),
                                       static_cast<std::size_t>(col.getBytes())),
                      meter, rows))
      corrupt(meter, hour);
  }
  select_one_.reset();
  return rows;
}

void ReadingBlocks::write(std::uint16_t meter, std::int64_t hour,
                          const std::vector<Reading>& rows) {
  if (rows.empty()) {
    erase_.bind(1, static_cast<int>(meter));
    erase_.bind(2, hour);
    erase_.exec();
    erase_.reset();
    return;
  }
  encode_block(rows, text_);
  upsert_.bind(1, static_cast<int>(meter));
  upsert_.bind(2, hour);
  upsert_.bind(3, static_cast<std::int64_t>(rows.size()));
  upsert_.bindNoCopy(4, text_);
  upsert_.exec();
  upsert_.reset();
}

void ReadingBlocks::insert_ordered(std::vector<Reading>& rows, const Reading& r) {
  if (rows.empty() || before(rows.back(), r)) {
    rows.push_back(r);  // the usual case: readings arrive in time order
    return;
  }
  rows.insert(std::upper_bound(rows.begin(), rows.end(), r, before), r);
}

bool ReadingBlocks::erase_frame(std::vector<Reading>& rows, std::int64_t frame_id) {
  const auto it = std::find_if(rows.begin(), rows.end(),
                               [&](const Reading& x) { return x.frame_id == frame_id; });
  if (it == rows.end()) return false;
  rows.erase(it);
  return true;
}

void ReadingBlocks::add(const Reading& r) {
  const std::int64_t hour = block_hour(r.received_at);
  Open& o = open_for(r.meter_id, hour);
  if (hour == o.hour) {
    insert_ordered(o.rows, r);
    o.dirty = true;
  } else if (hour > o.hour) {
    if (o.dirty) write(r.meter_id, o.hour, o.rows);
    o.rows.clear();
    o.rows.push_back(r);
    o.hour = hour;
    o.loaded = true;  // a later hour than any stored: nothing on disk
    o.dirty = true;
  } else {
    auto rows = load(r.meter_id, hour);
    insert_ordered(rows, r);
    write(r.meter_id, hour, rows);
  }
}

void ReadingBlocks::remove(const Reading& r) {
  const std::int64_t hour = block_hour(r.received_at);
  Open& o = open_for(r.meter_id, hour);
  if (hour == o.hour) {
    if (erase_frame(o.rows, r.frame_id)) o.dirty = true;
  } else {
    auto rows = load(r.meter_id, hour);
    if (erase_frame(rows, r.frame_id)) write(r.meter_id, hour, rows);
  }
}

void ReadingBlocks::flush() {
  std::vector<std::uint16_t> dirty;
  for (auto& [meter, o] : open_)
    if (o.dirty) dirty.push_back(meter);
  std::sort(dirty.begin(), dirty.end());  // in key order: neighbouring B-tree pages
  for (std::uint16_t meter : dirty) {
    Open& o = open_[meter];
    write(meter, o.hour, o.rows);
    o.dirty = false;
  }
  for (auto& [meter, o] : open_) {
    if (!o.loaded || o.rows.empty()) continue;
    o.rows = {};  // release the memory; read back by the next reading of this hour
    o.loaded = false;
  }
}

}  // namespace imsm::collector

// Frame codec (guide 2.5.2, Table 4).
#include "protocol/frame.h"

#include <gtest/gtest.h>

#include <random>

#include "support/vectors.h"

namespace imsm::protocol {
namespace {

TEST(Frame, Guide2_5_2_WorkedExampleDecodes) {
  ASSERT_FALSE(test::frame_vectors().empty());
  for (const auto& v : test::frame_vectors()) {
    auto f = decode(v.raw);
    ASSERT_TRUE(f.has_value()) << v.name;
    EXPECT_EQ(f->meter_id.value, v.meter_id) << v.name;
    EXPECT_EQ(f->peak_demand.value, v.peak_demand_counts) << v.name;
    EXPECT_EQ(f->demand_resets.value, v.demand_resets) << v.name;
    EXPECT_EQ(f->total_kwh.value, v.total_kwh) << v.name;
  }
}

TEST(Frame, Guide2_5_2_FieldConversionsByHand) {
  const auto& fields = test::guide_vectors().at("fields");
  const auto id = test::bytes_from_hex(fields.at("meter_id").at("bytes"));
  EXPECT_EQ(id[0] * 256 + id[1], fields.at("meter_id").at("value").get<int>());
  const auto pk = test::bytes_from_hex(fields.at("peak_demand").at("bytes"));
  const DemandCounts counts{static_cast<std::uint16_t>(pk[0] * 256 + pk[1])};
  EXPECT_EQ(counts.value, fields.at("peak_demand").at("counts").get<int>());
  // 66.26 kW exactly, as hundredths: never through a binary float.
  const std::string kw = fields.at("peak_demand").at("kw");
  EXPECT_EQ(counts.centi_kw(),
            static_cast<std::uint32_t>(std::stoi(kw.substr(0, kw.find('.'))) * 100 +
                                       std::stoi(kw.substr(kw.find('.') + 1))));
  EXPECT_EQ(counts.watts(), counts.centi_kw() * 10u);
  const auto kwh = test::bytes_from_hex(fields.at("total_kwh").at("bytes"));
  EXPECT_EQ(kwh[0] * 65536 + kwh[1] * 256 + kwh[2], fields.at("total_kwh").at("value").get<int>());
}

TEST(Frame, Guide2_5_2_EncodeReproducesTheWorkedExample) {
  for (const auto& v : test::frame_vectors()) {
    Frame f;
    f.meter_id.value = v.meter_id;
    f.peak_demand.value = v.peak_demand_counts;
    f.demand_resets.value = v.demand_resets;
    f.total_kwh.value = v.total_kwh;
    const RawFrame raw = encode(f);
    EXPECT_TRUE(std::equal(raw.begin(), raw.end(), v.raw.begin(), v.raw.end())) << v.name;
  }
}

TEST(Frame, RejectsWrongStructureWithReason) {
  auto raw = test::frame_vectors().at(0).raw;
  EXPECT_EQ(decode(std::span(raw).first(11)).error(), FrameError::WrongLength);
  auto bad_stop = raw;
  bad_stop[11] = 0x0A;
  EXPECT_EQ(decode(bad_stop).error(), FrameError::BadStopByte);
  auto pad = raw;
  pad[6] = 0x01;
  EXPECT_EQ(decode(pad).error(), FrameError::NonZeroPadding);
  pad = raw;
  pad[7] = 0x80;
  EXPECT_EQ(decode(pad).error(), FrameError::NonZeroPadding);
}

TEST(Frame, LeadByteHasNoSignificanceButIsKept) {
  auto raw = test::frame_vectors().at(0).raw;
  raw[0] = 0xA5;
  auto f = decode(raw);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->meter_id.value, test::frame_vectors().at(0).meter_id);
  EXPECT_EQ(f->lead, 0xA5);
  const RawFrame back = encode(*f);
  EXPECT_TRUE(std::equal(back.begin(), back.end(), raw.begin()));
}

TEST(Frame, PropertyDecodeOfEncodeIsIdentity) {
  std::mt19937_64 rng(20261124);
  for (int i = 0; i < 100000; ++i) {
    Frame f;
    f.lead = static_cast<std::uint8_t>(rng());
    f.meter_id.value = static_cast<std::uint16_t>(rng());
    f.peak_demand.value = static_cast<std::uint16_t>(rng());
    f.demand_resets.value = static_cast<std::uint8_t>(rng());
    f.total_kwh.value = static_cast<std::uint32_t>(rng()) & Kwh24::kMask;
    const RawFrame raw = encode(f);
    auto back = decode(raw);
    ASSERT_TRUE(back);
    ASSERT_EQ(*back, f);
  }
}

TEST(Frame, EncodeKeepsOnly24BitsOfKwh) {
  Frame f;
  f.total_kwh.value = Kwh24::kMask;
  EXPECT_EQ(decode(encode(f))->total_kwh.value, 16'777'215u);
  EXPECT_EQ(Kwh24::from_total(16'777'216).value, 0u);
  EXPECT_EQ(Kwh24::from_total(16'777'217).value, 1u);
  // Forward distance across the wrap.
  EXPECT_EQ((Kwh24{5}.advance_since(Kwh24{16'777'210})), 11u);
}

}  // namespace
}  // namespace imsm::protocol

// Stop strings over pieces of generated text: a stop string split across
// pieces is still caught, text that might start one is held back only as
// long as it might.
#include <gtest/gtest.h>

#include "include/lpu/sampling.h"

namespace lpu {
namespace {

StopStrings make(std::vector<std::string> stops) {
  auto s = StopStrings::create(std::move(stops));
  EXPECT_TRUE(s.ok());
  return std::move(s).value();
}

TEST(StopStrings, AStopSplitAcrossPiecesEndsTheTextBeforeIt) {
  StopStrings s = make({"world"});
  EXPECT_EQ(s.push("Hello wo"), "Hello ");  // "wo" may start "world"
  EXPECT_EQ(s.push("r"), "");
  EXPECT_EQ(s.push("ld! more"), "");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.push("after"), "");
  EXPECT_EQ(s.flush(), "");
}

TEST(StopStrings, HeldTextIsReleasedWhenItCannotStartAStop) {
  StopStrings s = make({"world"});
  EXPECT_EQ(s.push("a wo"), "a ");
  EXPECT_EQ(s.push("x"), "wox");
  EXPECT_FALSE(s.stopped());
  EXPECT_EQ(s.push("w"), "");
  EXPECT_EQ(s.flush(), "w");  // the end releases what was held
}

TEST(StopStrings, TheEarliestOfSeveralStopsWins) {
  StopStrings s = make({"END", "\n\n"});
  EXPECT_EQ(s.push("one\n\ntwo END"), "one");
  EXPECT_TRUE(s.stopped());
}

TEST(StopStrings, ARepeatedPrefixIsHeldByItsLongestMatch) {
  StopStrings s = make({"aab"});
  EXPECT_EQ(s.push("xaa"), "x");
  EXPECT_EQ(s.push("a"), "a");  // "aaa": only "aa" can still start "aab"
  EXPECT_EQ(s.push("b"), "");
  EXPECT_TRUE(s.stopped());
}

TEST(StopStrings, NoStopsPassEverythingAndEmptyStopsAreRefused) {
  StopStrings s = make({});
  EXPECT_EQ(s.push("anything"), "anything");
  auto bad = StopStrings::create({"ok", ""});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("stop string 1 is empty"), std::string::npos);
}

}  // namespace
}  // namespace lpu

#include "include/lpu/status.h"

#include <gtest/gtest.h>

namespace lpu {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return invalid_argument("x is " + std::to_string(x) + " (expected > 0)");
  return x;
}

Status caller(int x, int& out) {
  LPU_ASSIGN_OR_RETURN(out, parse_positive(x));
  LPU_TRY(parse_positive(x - 1), "second");
  return {};
}

TEST(Status, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.to_string(), "ok");
}

TEST(Status, ContextIsPrefixedOnTheWayUp) {
  int out = 0;
  Status s = caller(1, out);
  EXPECT_EQ(out, 1);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "second: x is 0 (expected > 0)");
  EXPECT_EQ(s.to_string(), "invalid_argument: second: x is 0 (expected > 0)");
}

TEST(Status, ResultFromOkStatusBecomesInternalError) {
  Result<int> r{Status()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(Status, AssignOrReturnPropagates) {
  int out = -1;
  Status s = caller(0, out);
  EXPECT_EQ(out, -1);
  EXPECT_EQ(s.message(), "x is 0 (expected > 0)");
}

}  // namespace
}  // namespace lpu

namespace lpu {
namespace {

// value() on an error prints the error and aborts: no exception crosses
// the API, and the message says what went wrong.
TEST(StatusDeathTest, ValueOfAnErrorAbortsWithTheMessage) {
  Result<int> r = not_found("m.gguf: missing tensor 'output.weight'");
  EXPECT_DEATH((void)r.value(), "lpu: not_found: m.gguf: missing tensor 'output.weight'");
  Result<int> good = 3;
  EXPECT_EQ(good.value(), 3);
}

}  // namespace
}  // namespace lpu

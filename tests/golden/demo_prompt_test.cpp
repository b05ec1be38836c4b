// The demo (scripts/demo.sh) runs `lpu run SmolLM2 --chat --prompt P` on the
// Q4_1 file, whose fp32 reference pass uses exactly the F32 rewrite's
// weights. The smollm2_f32_demo golden holds llama.cpp's greedy continuation
// of P on that F32 rewrite; golden_test checks we reproduce it from the
// golden's prompt ids. This test closes the loop: our chat rendering and
// tokenisation of P give exactly those prompt ids, so the demo's continuation
// equals llama.cpp's.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "include/lpu/chat.h"
#include "include/lpu/model.h"
#include "include/lpu/tokenizer.h"
#include "tests/golden/golden_file.h"
#include "tests/testing/test_paths.h"

namespace lpu::testing {
namespace {

// Keep in step with the default prompt of scripts/demo.sh.
constexpr char kDemoPrompt[] = "What are the three primary colors?";

TEST(DemoPrompt, ChatRenderingAndTokenisationGiveTheGoldenPromptIds) {
  const auto model_path = smollm2_q4_1_path();
  LPU_REQUIRE_FILE(model_path, "SmolLM2-135M-Instruct (Q4_1)");
  Result<GoldenFile> golden =
      read_golden_file(source_dir() / "tests" / "data" / "golden" / "smollm2_f32_demo.lpugold");
  ASSERT_TRUE(golden.ok()) << golden.status().to_string();

  Result<Model> model = Model::load(model_path.string());
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  Result<ChatTemplateKind> kind = detect_chat_template(model->chat_template());
  ASSERT_TRUE(kind.ok()) << kind.status().to_string();
  const std::vector<ChatMessage> messages = {{"user", kDemoPrompt}};
  const std::string text = render_chat(*kind, messages, /*add_assistant_prompt=*/true);

  Result<Tokenizer> tok = Tokenizer::from_gguf(model_path.string());
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  EncodeOptions encode;
  encode.add_bos = tok->default_add_bos();
  encode.parse_special = true;  // as `lpu run --chat` does
  Result<std::vector<TokenId>> ids = tok->encode(text, encode);
  ASSERT_TRUE(ids.ok()) << ids.status().to_string();

  const std::vector<TokenId> expected(golden->tokens.begin(), golden->tokens.begin() + golden->n_prompt);
  EXPECT_EQ(*ids, expected);
}

}  // namespace
}  // namespace lpu::testing

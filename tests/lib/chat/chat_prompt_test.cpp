// chat_prompt on SmolLM2 (a ChatML model): a multi-turn conversation with a
// system message becomes the ids of the rendered template, with the
// markers as single special tokens; Model::tokenizer() is the file's
// tokenizer; a model without a template is refused by name.
#include <gtest/gtest.h>

#include "include/lpu/chat.h"
#include "include/lpu/model.h"
#include "include/lpu/synth.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

TEST(ChatPrompt, RendersAMultiTurnConversationThroughTheModelsTemplate) {
  const auto path = testing::smollm2_q4_1_path();
  LPU_REQUIRE_FILE(path, "SmolLM2 (scripts/fetch_models.sh)");
  auto model = Model::load(path.string());
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto tok = model->tokenizer();
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  auto file_tok = Tokenizer::from_gguf(path.string());
  ASSERT_TRUE(file_tok.ok());
  EXPECT_EQ(*tok->encode("Hello, world!", {}), *file_tok->encode("Hello, world!", {}));

  const std::vector<ChatMessage> messages = {{"system", "You are brief."},
                                             {"user", "Name a colour."},
                                             {"assistant", "Red."},
                                             {"user", "Another?"}};
  auto ids = chat_prompt(*model, *tok, messages);
  ASSERT_TRUE(ids.ok()) << ids.status().to_string();
  const std::string want =
      "<|im_start|>system\nYou are brief.<|im_end|>\n<|im_start|>user\nName a colour.<|im_end|>\n"
      "<|im_start|>assistant\nRed.<|im_end|>\n<|im_start|>user\nAnother?<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(tok->decode(*ids, /*render_special=*/true), want);
  // Each marker is one special token, not its characters.
  auto start = tok->encode("<|im_start|>", {.parse_special = true});
  ASSERT_TRUE(start.ok());
  ASSERT_EQ(start->size(), 1u);
  EXPECT_EQ(std::count(ids->begin(), ids->end(), (*start)[0]), 5);
}

TEST(ChatPrompt, AModelWithoutATemplateIsRefused) {
  auto o = synth_preset("tiny-dense");
  ASSERT_TRUE(o.ok());
  const std::string path = (testing::temp_dir() / "chat_prompt_tiny.gguf").string();
  ASSERT_TRUE(write_synthetic_model(*o, path).ok());
  auto model = Model::load(path);
  ASSERT_TRUE(model.ok());
  auto tok = model->tokenizer();
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  const std::vector<ChatMessage> messages = {{"user", "hi"}};
  auto ids = chat_prompt(*model, *tok, messages);
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.status().message().find("chat_prompt_tiny.gguf: the model has no tokenizer.chat_template"),
            std::string::npos)
      << ids.status().to_string();
}

}  // namespace
}  // namespace lpu

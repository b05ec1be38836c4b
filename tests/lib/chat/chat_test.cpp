// Chat templates against llama.cpp's own formatting (tests/data/chat/cases.json,
// written by tests/peer/dump_chat.py): every case byte for byte.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "include/lpu/chat.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

nlohmann::json load_cases() {
  const auto path = testing::source_dir() / "tests" / "data" / "chat" / "cases.json";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "missing " << path;
  return nlohmann::json::parse(in);
}

std::map<std::string, std::vector<ChatMessage>> conversations(const nlohmann::json& data) {
  std::map<std::string, std::vector<ChatMessage>> out;
  for (const auto& [name, msgs] : data.at("conversations").items()) {
    for (const auto& m : msgs) {
      out[name].push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
    }
  }
  return out;
}

TEST(ChatTemplateTest, MatchesLlamaCppByteForByte) {
  const nlohmann::json data = load_cases();
  const auto convs = conversations(data);
  int checked = 0;
  for (const auto& c : data.at("cases")) {
    const std::string label = c.at("label").get<std::string>();
    const auto kind = detect_chat_template(c.at("template").get<std::string>());
    ASSERT_TRUE(kind.ok()) << label << ": " << kind.status().to_string();
    EXPECT_EQ(chat_template_name(*kind), c.at("kind").get<std::string>()) << label;
    const std::string conv = c.at("conversation").get<std::string>();
    const bool add_ass = c.at("add_ass").get<bool>();
    EXPECT_EQ(render_chat(*kind, convs.at(conv), add_ass), c.at("output").get<std::string>())
        << label << " / " << conv << " / add_ass=" << add_ass;
    ++checked;
  }
  EXPECT_GE(checked, 150);
}

TEST(ChatTemplateTest, UnsupportedFamiliesAreErrors) {
  const nlohmann::json data = load_cases();
  for (const auto& u : data.at("unsupported")) {
    const auto kind = detect_chat_template(u.at("template").get<std::string>());
    EXPECT_FALSE(kind.ok()) << u.at("label").get<std::string>();
  }
  auto gemma = detect_chat_template("{{ '<start_of_turn>user' }}");
  ASSERT_FALSE(gemma.ok());
  EXPECT_EQ(gemma.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(gemma.status().message().find("gemma"), std::string::npos);
  auto by_name = detect_chat_template("phi3");
  ASSERT_FALSE(by_name.ok());
  EXPECT_NE(by_name.status().message().find("phi3"), std::string::npos);
  auto unknown = detect_chat_template("{{ messages }}");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("<|im_start|>"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("[INST]"), std::string::npos);
}

TEST(ChatTemplateTest, NamesRoundTrip) {
  const std::vector<ChatTemplateKind> kinds = chat_template_kinds();
  EXPECT_EQ(kinds.size(), 11u);
  for (ChatTemplateKind k : kinds) {
    auto back = detect_chat_template(chat_template_name(k));
    ASSERT_TRUE(back.ok()) << chat_template_name(k);
    EXPECT_EQ(*back, k);
  }
}

TEST(ChatTemplateTest, SmolLM2TemplateIsChatML) {
  const nlohmann::json data = load_cases();
  bool found = false;
  for (const auto& c : data.at("cases")) {
    if (c.at("label") == "smollm2-like chatml" && c.at("conversation") == "system_user" &&
        c.at("add_ass") == true) {
      found = true;
      // llama.cpp's ChatML, without the Jinja's default system message.
      EXPECT_EQ(c.at("output").get<std::string>(),
                "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
                "<|im_start|>assistant\n");
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace lpu

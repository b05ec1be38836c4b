#include "lib/tokenizer/symbol_list.h"

#include <algorithm>
#include <cstdint>

#include "lib/tokenizer/unicode.h"

namespace lpu::tokenizer {

SymbolList SymbolList::characters(std::string_view text) {
  SymbolList list(text);
  std::size_t offset = 0;
  int index = 0;
  while (offset < text.size()) {
    const std::size_t len =
        std::min(utf8_len_from_lead(static_cast<std::uint8_t>(text[offset])), text.size() - offset);
    offset += len;
    list.symbols_.push_back({index - 1, offset == text.size() ? -1 : index + 1, offset - len, len});
    ++index;
  }
  return list;
}

SymbolList SymbolList::whole(std::string_view text) {
  SymbolList list(text);
  list.symbols_.push_back({-1, -1, 0, text.size()});
  return list;
}

void SymbolList::merge_with_next(int left) {
  Symbol& l = symbols_[static_cast<std::size_t>(left)];
  Symbol& r = symbols_[static_cast<std::size_t>(l.next)];
  l.length += r.length;
  r.length = 0;
  l.next = r.next;
  if (r.next >= 0) symbols_[static_cast<std::size_t>(r.next)].prev = left;
}

}  // namespace lpu::tokenizer

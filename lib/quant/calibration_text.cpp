#include "lib/quant/calibration.h"

namespace lpu::quant {

// A fixed English text, mixed in register (narrative, instructions, a
// dialogue, numbers, a little code), so the calibration sees the kinds of
// activation a chat model meets. Any change to it changes every smoothed
// Program's calibration hash, and so misses the Program cache.
std::string_view calibration_text() {
  return R"(The lighthouse keeper climbed the spiral stairs a little after six, as she had every evening for eleven years. The glass at the top was cold, and the sea below had turned the colour of slate. She wound the clockwork, trimmed the wick, and wrote the time in the log: 18:07, wind from the north-west, visibility fair.

How to make a simple loaf of bread: mix 500 grams of flour with 10 grams of salt and 7 grams of dried yeast. Add 320 millilitres of warm water and stir until no dry flour remains. Knead for ten minutes, cover the bowl, and leave it somewhere warm for an hour. Shape the dough, let it rise again for forty minutes, then bake at 220 degrees Celsius for about thirty minutes, until the base sounds hollow when tapped.

"Are you sure this is the right road?" asked Tom.
"Not at all," said Priya, folding the map. "But it is the only road, and that makes it right enough for now."
They walked on in silence until the village appeared below them: a church, a bridge, a row of white houses, and smoke rising from a single chimney.

Photosynthesis converts light energy into chemical energy. In the chloroplasts of plant cells, water is split and carbon dioxide is fixed into sugars, releasing oxygen as a by-product. The overall reaction can be written as 6 CO2 + 6 H2O -> C6H12O6 + 6 O2.

Q: What is the capital of Australia?
A: Canberra. Many people guess Sydney or Melbourne, but Canberra was chosen as a compromise between the two in 1908.

def fibonacci(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a

print([fibonacci(i) for i in range(10)])  # [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]

Dear Mr. Alvarez, thank you for your letter of 3 March. I am sorry to hear that the parcel arrived damaged. We have sent a replacement by tracked post, and you should receive it within five working days. Please keep the original box until the courier has collected it.

The committee met on Tuesday to review the budget. Spending on repairs rose by 12 per cent, mainly because of the new roof, while income from the summer fair fell slightly. After a long discussion, members agreed to raise the annual fee from 40 to 45 pounds and to ask volunteers to help with the autumn clean-up.

When the storm finally broke, the rain came all at once, drumming on the tin roof so loudly that nobody could hear the radio. The children pressed their faces to the window and counted the seconds between each flash and its thunder: seven, then five, then two.)";
}

}  // namespace lpu::quant

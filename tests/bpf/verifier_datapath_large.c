// Verifier scale test: the datapath of verifier_datapath.c with 160 payload filters per
// direction and family, so from_netdev has about 17,000 instructions. Linux gives up on it
// (it stops at 1,000,000 instructions explored); xbpf must accept it within its limits.
#define FILTER_RULES 160
#include "verifier_datapath.c"

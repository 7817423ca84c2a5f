include "common"; [inputs | outputs | select(ok) | select(vals | length > 0 and max < 0.6) | .input.id] | unique | length

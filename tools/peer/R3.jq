include "common"; [inputs | outputs | select(ok) | select(vals | length > 0 and (sort | reverse | .[0:5] | last) > 0.2) | .input.id] | unique | length

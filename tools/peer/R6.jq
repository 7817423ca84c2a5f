include "common";
def margin_ok: (sort | reverse) as $s | ($s | length) >= 2 and ($s[0] - $s[1]) < 0.1;
def entropy_ok: add as $t | if $t == 0 then false else ([.[] | . / $t | select(. != 0) | -(. * log)] | add) > 2.85 end;
[inputs | outputs | select(ok) | vals as $v | select(($v | length) > 0
  and (($v | max) < 0.6 or any((.data.concepts // [])[]; .name == "cat" and (.value // 0) > 0.9))
  and (meta.source != "kiosk")
  and (($v | margin_ok) or ($v | entropy_ok))) | .input.id] | unique | length

include "common"; [inputs | outputs | select(ok) | select(meta.source == "mobile" and any((.data.concepts // [])[]; .name == "dog" and (.value // 0) > 0.8)) | .input.id] | unique | length

// cmark, the CommonMark reference implementation: linear-time parsing, fuzzed upstream.
#include <cmark.h>
#include <stdlib.h>

/// Markdown to HTML with cmark's safe defaults (raw HTML and javascript: links removed); the caller frees the result.
static inline char *nurture_cmark_to_html(const char *text, size_t length) {
    return cmark_markdown_to_html(text, length, CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8);
}

"""Code normalisation and tab resolution."""

from __future__ import annotations

from toolkit.code import normalise_code, resolved_tabs, saved_code
from toolkit.model import CodeCell
from toolkit.parser import parse_chapter

ENGLISH = '''class Benchmark:  #@save
    """For measuring running time."""
    def __init__(self, description='Done'):
        self.description = description

# Factory for networks
def get_net():
    return 1
'''

TRANSLATED = '''class Benchmark:  #@save
    """Çalışma süresini ölçmek için."""
    def __init__(self, description='Done'):
        self.description = description

# Ağlar için fabrika
def get_net():
    return 1
'''


def test_translated_comments_and_docstrings_are_not_code_changes() -> None:
    assert normalise_code(ENGLISH) == normalise_code(TRANSLATED)
    assert saved_code(ENGLISH) == saved_code(TRANSLATED)


def test_a_changed_string_literal_is_a_code_change() -> None:
    # seen in the Indonesian lr-scheduler.md: a translated f-string changes the output
    assert normalise_code("print(f'learning rate is now {lr}')") != normalise_code(
        "print(f'learning rate Sekarang {lr}')"
    )


def test_formatting_is_ignored_but_not_for_saved_cells() -> None:
    assert normalise_code("x = f(1,2)") == normalise_code("x = f(1, 2)")
    assert saved_code("x = f(1,2)") != saved_code("x = f(1, 2)")


def test_ipython_magics_are_kept_as_code() -> None:
    assert normalise_code("net.export('m')\n!ls -lh my_mlp*") != normalise_code(
        "net.export('m')\n!ls my_mlp*"
    )
    # the whole line: IPython expands {…} and $name after a `#` too
    assert normalise_code("%timeit f()") != normalise_code("%timeit f()  # {time it}")
    assert normalise_code("%timeit f()") == normalise_code("%timeit f()   ")


def test_code_that_does_not_parse_is_compared_without_comments() -> None:
    broken = "print(f'a {x}, ')\n      f'b')\n"
    assert normalise_code(broken).startswith("tokens:")
    assert normalise_code(broken) != normalise_code("print(f'a {x}, '\n      f'b')\n")


def test_untagged_cell_belongs_to_the_editions_default_tab() -> None:
    chapter = parse_chapter(
        "t.md",
        b"```{.python .input}\nx = 1\n```\n\n```{.python .input}\n#@tab mxnet\nx = 1\n```\n\n"
        b"```{.python .input}\n#@tab all\nx = 2\n```\n",
    )
    untagged, tagged, everything = (b for b in chapter.blocks if isinstance(b, CodeCell))
    assert resolved_tabs(untagged, ("mxnet", "pytorch", "tensorflow")) == {"mxnet"}
    assert resolved_tabs(untagged, ("pytorch", "mxnet", "jax", "tensorflow")) == {"pytorch"}
    assert resolved_tabs(tagged, ("pytorch", "mxnet")) == {"mxnet"}
    assert resolved_tabs(everything, ("pytorch",)) == {"all"}


def test_a_shell_line_is_text_and_a_hash_in_it_is_not_a_comment() -> None:
    """``!ls README.md#; touch x`` runs touch in bash: it is not ``!ls README.md``."""
    english = "!ls -la README.md\nx = 1\n"
    payload = "!ls -la README.md#; touch /tmp/owned\nx = 1\n"
    assert normalise_code(english) != normalise_code(payload)
    assert saved_code(english) != saved_code(payload)
    assert normalise_code("!ls -la README.md\nx = 1  # bir\n") == normalise_code(english)


def test_magic_and_shell_lines_compare_as_whole_text() -> None:
    """IPython expands ``{expression}`` on a whole magic or shell line, after a ``#`` too: the
    text after a shell comment is code (``%matplotlib inline #{open(...).write(...)}``)."""
    for english, payload in (
        ("%matplotlib inline\n", "%matplotlib inline #{open('owned', 'w').write('x')}\n"),
        ("!ls\n", "!ls #{__import__('os').system('touch owned')}\n"),
        ("x = 1\n!pip install d2l  # the book\n", "x = 1\n!pip install d2l  # kitap\n"),
    ):
        assert normalise_code(english) != normalise_code(payload), payload
    assert normalise_code("%matplotlib inline\nx = 1  # a comment\n") == normalise_code(
        "%matplotlib inline\nx = 1  # bir yorum\n"
    )


def test_a_cell_magic_body_is_compared_as_text() -> None:
    bash = "%%bash\necho hi # a bash comment\n"
    assert normalise_code(bash) != normalise_code("%%bash\necho hi # bir yorum\n")
    assert normalise_code(bash) == normalise_code("%%bash\necho hi # a bash comment   \n")
    written = '%%writefile x.py\n"""doc"""\nprint(1)\n'
    assert normalise_code(written) != normalise_code('%%writefile x.py\n"""belge"""\nprint(1)\n')


def test_a_payload_after_a_docstring_on_its_line_is_code() -> None:
    english = 'def f():\n    """Doc."""\n    return 1\n'
    payload = 'def f():\n    """Belge."""; import os; os.system("x")\n    return 1\n'
    assert normalise_code(english) != normalise_code(payload)
    assert "os.system" in saved_code(payload)

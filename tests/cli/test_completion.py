"""`outstream completion bash|zsh|fish`: each script, loaded by its real shell, completes
commands, their options, the values an option takes, and files where a file goes."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys

import pytest

from ..conftest import outstream

needs_zsh = pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
needs_fish = pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")

# (typed, what a TAB makes of its last word); RECORDING stands for a file in the test's directory.
CASES = [
    ("outstream --mar", "--markdown"),
    ("outstream ask --mo", "--model"),
    ("outstream ask why --mo", "--model"),  # (after a prompt's word too)
    ("outstream follow abc --esc", "--escapes"),
    ("outstream se", "serve"),
    ("outstream follow --esc", "--escapes"),
    ("outstream --unit w", "word"),
    ("outstream ask --color al", "always"),
    ("outstream completion fi", "fish"),
    ("outstream config as", "ask"),
    ("outstream replay RECORDING", "RECORDING.jsonl"),
    ("outstream --save-deltas RECORDING", "RECORDING.jsonl"),
]


@pytest.fixture(scope="module")
def where(tmp_path_factory):
    """A directory with the three scripts (made by the CLI) and a file to complete."""
    path = tmp_path_factory.mktemp("completion")
    for shell, name in (
        ("bash", "outstream.bash"),
        ("zsh", "_outstream"),
        ("fish", "outstream.fish"),
    ):
        made = outstream("completion", shell)
        out, err = made.communicate(timeout=30)
        assert made.returncode == 0 and err == ""
        (path / name).write_text(out)
    (path / "recording.jsonl").write_text("")
    return path


def cases(where) -> list[tuple[str, str]]:
    recording = str(where / "recording")
    return [
        (t.replace("RECORDING", recording), w.replace("RECORDING", recording)) for t, w in CASES
    ]


# --- bash ---


def test_bash_completes_commands_options_values_and_files(where):
    script = [f"source {where}/outstream.bash", "complete -p outstream"]
    for typed, _ in cases(where):
        words = typed.split(" ")
        script += [
            f"COMP_WORDS=({' '.join(words)}); COMP_CWORD={len(words) - 1}",
            f"COMP_LINE='{typed}'; COMP_POINT={len(typed)}; COMPREPLY=()",
            f"_shtab_outstream outstream {words[-1]} {words[-2]}",
            'echo "offered: ${COMPREPLY[*]}"',
        ]
    ran = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", "\n".join(script)],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ["PATH"], "HOME": str(where)},
    )
    assert ran.returncode == 0 and ran.stderr == "", ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == "complete -o bashdefault -F _shtab_outstream outstream"
    offered = [line.removeprefix("offered: ").split() for line in lines[1:]]
    assert offered == [[wanted] for _, wanted in cases(where)]


def test_bash_offers_every_command_and_every_choice(where):
    script = f"""source {where}/outstream.bash
    COMP_WORDS=(outstream ''); COMP_CWORD=1; _shtab_outstream outstream '' outstream
    echo "${{COMPREPLY[*]}}"
    COMP_WORDS=(outstream --escapes ''); COMP_CWORD=2; _shtab_outstream outstream '' --escapes
    echo "${{COMPREPLY[*]}}"
    """
    ran = subprocess.run(
        ["bash", "--norc", "-c", script], capture_output=True, text=True, timeout=30
    )
    commands, escapes = ran.stdout.splitlines()
    assert commands.split() == [
        "ask", "replay", "demo", "inspect", "publish", "follow", "cancel", "serve", "config",
        "completion",
    ]  # fmt: skip
    assert escapes.split() == ["strip", "escape", "sgr", "display", "raw"]


# --- zsh ---


@needs_zsh
def test_zsh_completes_commands_options_values_and_files(where):
    """An interactive zsh on a pty, compinit with the script in fpath: each line is typed,
    then TAB, then a key whose widget prints the line as TAB left it."""
    setup = (
        f"fpath=({where} $fpath); autoload -Uz compinit; compinit -u -D; "
        "show() { print -rn -- $'\\n'\"<<$BUFFER>>\"$'\\n'; BUFFER=; zle reset-prompt }; "
        "zle -N show; bindkey '^T' show; PS1='% '\n"
    )
    shell = Pty(
        ["zsh", "-f", "-i"], env={"PATH": os.environ["PATH"], "HOME": str(where), "TERM": "xterm"}
    )
    try:
        shell.write(setup)
        for typed, wanted in cases(where):
            shell.write(f"{typed}\t\x14")
            line = shell.read_until(re.compile(r"<<([^$>][^>]*)>>"))
            assert line.rstrip() == " ".join([*typed.split(" ")[:-1], wanted]), typed
    finally:
        shell.close()


class Pty:
    """A program on a pseudo-terminal; `read_until` waits on its output, never on a clock."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.fd, child = pty.openpty()
        self.process = subprocess.Popen(
            argv, stdin=child, stdout=child, stderr=child, env=env, start_new_session=True
        )
        os.close(child)
        self.seen = ""

    def write(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def read_until(self, pattern: re.Pattern[str], timeout: float = 30) -> str:
        while True:
            match = pattern.search(self.seen)
            if match:
                self.seen = self.seen[match.end() :]
                return match.group(1)
            ready, _, _ = select.select([self.fd], [], [], timeout)
            assert ready, f"nothing more from the shell; it showed: {self.seen!r}"
            self.seen += os.read(self.fd, 65536).decode(errors="replace")

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)
        os.close(self.fd)


# --- fish ---


@needs_fish
def test_fish_completes_commands_options_values_and_files(where):
    commands = [f"source {where}/outstream.fish"]
    for typed, _ in cases(where):
        commands += ["echo '>>'", f"complete --do-complete '{typed}'"]
    ran = subprocess.run(
        ["fish", "--no-config", "-c", "\n".join(commands)],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ["PATH"], "HOME": str(where)},
    )
    assert ran.returncode == 0 and ran.stderr == "", ran.stderr
    offered = [
        [line.split("\t")[0] for line in block.strip().splitlines()]
        for block in ran.stdout.split(">>\n")[1:]
    ]
    assert offered == [[wanted] for _, wanted in cases(where)]


@needs_fish
def test_fish_describes_each_command(where):
    ran = subprocess.run(
        [
            "fish",
            "--no-config",
            "-c",
            f"source {where}/outstream.fish; complete --do-complete 'outstream '",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    offered = dict(line.split("\t", 1) for line in ran.stdout.splitlines() if "\t" in line)
    assert offered["ask"] == "ask a model, stream its answer"
    assert offered["completion"] == "the shell's completion script"


# --- the command ---


def test_help_says_where_each_script_goes_and_a_shell_it_has_none_for_is_refused():
    helped = outstream("completion", "--help")
    out, _ = helped.communicate(timeout=30)
    assert helped.returncode == 0
    assert "outstream completion bash > ~/.local/share/bash-completion/completions/outstream" in out
    assert "~/.config/fish/completions/outstream.fish" in out and "fpath=" in out
    refused = outstream("completion", "tcsh")
    out, err = refused.communicate(timeout=30)
    assert refused.returncode == 2 and out == ""
    assert "invalid choice: 'tcsh'" in err


def test_the_scripts_run_nothing_of_outstream_at_a_tab(where):
    """Static: no python, no outstream, no shtab called when completing."""
    for name in ("outstream.bash", "_outstream", "outstream.fish"):
        text = "\n".join(
            line for line in (where / name).read_text().splitlines() if not line.startswith("#")
        )
        assert "python" not in text and "shtab " not in text
        assert not re.search(r"(^|[;(|&`$]\s*)outstream\s", text, re.M), name


def test_the_top_level_help_names_the_new_commands():
    ran = subprocess.run(
        [sys.executable, "-m", "outstream", "--help"], capture_output=True, text=True, timeout=30
    )
    assert "outstream completion bash|zsh|fish" in ran.stdout
    assert "outstream config [COMMAND [OPTIONS]]" in ran.stdout

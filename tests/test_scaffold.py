"""`livetiming-plugins new NAME`: the generated distribution installs
editable into a fresh venv, passes its own test and `--check` at once."""
import subprocess

from livetiming.cli.plugins import main as plugins_main
from plugin_venv import PluginVenv


def test_a_new_plugin_installs_and_passes_its_test_and_check(tmp_path, capsys):
    source = tmp_path / "my-plugin"
    assert plugins_main(["new", "my_series", "--dir", str(source)]) == 0
    assert "pip install -e ." in capsys.readouterr().out
    for parent in ("livetiming", "livetiming/service", "livetiming/service/plugins"):
        assert not (source / "src" / parent / "__init__.py").exists()

    venv = PluginVenv(tmp_path / "venv")
    result = subprocess.run(
        [venv.python, "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-deps",
         "--no-build-isolation", "-e", str(source)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr

    tests = subprocess.run([venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=source,
                           capture_output=True, text=True, timeout=120)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "1 passed" in tests.stdout

    check = subprocess.run([venv.python, "-m", "livetiming.cli.service", "my_series", "--check"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "A. Driver" in check.stdout
    assert "my_series: 5 updates checked, 0 kind(s) of problem" in check.stdout


def test_new_refuses_a_bad_name_or_a_directory_in_use(tmp_path, capsys):
    assert plugins_main(["new", "My-Series", "--dir", str(tmp_path / "a")]) == 2
    assert "plugin name 'My-Series'" in capsys.readouterr().err
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("")
    assert plugins_main(["new", "fine", "--dir", str(tmp_path / "used")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()

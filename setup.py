"""The wheel ships the course notebooks (outputs stripped) in vit_nbdev/course/, so that `vit-nbdev exercises`
writes students' notebooks from an installed package. Everything else is in pyproject.toml."""
import json
from pathlib import Path
from setuptools import setup
from setuptools.command.build_py import build_py

class BuildWithCourse(build_py):
    "build_py, then the numbered notebooks of nbs/ copied into the package without their outputs."
    def run(self):
        super().run()
        out = Path(self.build_lib)/'vit_nbdev'/'course'
        out.mkdir(parents=True, exist_ok=True)
        for path in sorted(Path('nbs').glob('[0-9][0-9]*_*.ipynb')):
            nb = json.loads(path.read_text())
            for cell in nb['cells']:
                if cell['cell_type'] == 'code': cell['outputs'], cell['execution_count'] = [], None
            (out/path.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')

setup(cmdclass={'build_py': BuildWithCourse})

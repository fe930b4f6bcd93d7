//! `cfn-lint` (from the project venv, `scripts/setup`) finds nothing in any template.

use std::process::Command;

use crate::templates;

#[test]
fn cfn_lint_is_clean_on_every_template() {
    let venv = caracal_testkit::venv_dir();
    let lint = venv.join("bin/cfn-lint");
    assert!(lint.is_file(), "{} is missing: run scripts/setup", lint.display());
    let out = Command::new(&lint).args(templates()).output().expect("cfn-lint runs");
    assert!(
        out.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

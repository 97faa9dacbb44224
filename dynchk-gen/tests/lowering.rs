//! One lowering for parameters and struct members: the validator a rule calls comes from the
//! `rules.sem` line of the rule, wherever the rule stands. A copy of the database whose `in` and
//! `data` rules name other validators generates code that calls those, in the interposer and in
//! the struct checkers alike.

use std::fs;

use dynchk_gen::build::Generator;
use dynchk_gen::render;

mod db_copy;

#[test]
fn every_check_calls_the_validator_its_rules_sem_line_names() {
    let db = db_copy::db();
    let tmp = db_copy::copy_db("lowering", "validators");
    let rules = fs::read_to_string(db.join("semantics/rules.sem")).unwrap();
    let mut changed = 0;
    let rules: Vec<String> = rules
        .lines()
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let validator = match words.get(..2) {
                Some(["rule", "in"]) => "mem::string_n",
                Some(["rule", "data"]) => "mem::string_n|mem::code_n",
                _ => return l.to_string(),
            };
            changed += 1;
            l.replacen(words[3], validator, 1)
        })
        .collect();
    assert_eq!(changed, 2, "rules.sem defines `in` and `data`");
    fs::write(tmp.join("semantics/rules.sem"), rules.join("\n")).unwrap();
    // `mem::code_n` is no validator: the lint names it, as for any rule's.
    let problems = dynchk_gen::check(&tmp).unwrap();
    assert!(
        problems.iter().any(|p| p.contains("`mem::code_n`")),
        "{problems:?}"
    );
    let rules = fs::read_to_string(tmp.join("semantics/rules.sem")).unwrap();
    fs::write(
        tmp.join("semantics/rules.sem"),
        rules.replace("|mem::code_n", "|mem::writable"),
    )
    .unwrap();
    let g = Generator::load(&tmp).unwrap();
    let _ = fs::remove_dir_all(&tmp);
    let code = render::code_of(&g.spec, g.plan("sendmsg").unwrap()).unwrap();
    // Without the layout rustfmt chose: no spaces, no trailing commas.
    let code = code
        .split_whitespace()
        .collect::<String>()
        .replace(",)", ")");
    // The parameter's `in`, then in struct msghdr the member's `in[msg_iovlen]` and the `data` of
    // msg_control, then struct iovec's `data` member.
    assert!(
        code.contains("validators::mem::string_n(msgas*constc_void,(56i64)asusize)"),
        "{code}"
    );
    assert!(
        code.contains("validators::mem::string_n(m_msg_iovasusizeas*constc_void"),
        "{code}"
    );
    assert!(
        code.contains(
            "ifdata_out{validators::mem::writable(m_msg_controlasusizeas*constc_void,(m_msg_controllen)asusize)}else{validators::mem::string_n(m_msg_control"
        ),
        "{code}"
    );
    assert!(!code.contains("mem::readable(m_"), "{code}");
}

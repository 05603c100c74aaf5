//! A configuration file as `check` and `run` read it: loaded over the built-in defaults,
//! validated, its board mappings compiled. Any text may be refused with an error; none may panic.
#![no_main]

use aircall_monday_bridge::config::{Settings, Source};
use aircall_monday_bridge::mapping::Rules;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(toml) = std::str::from_utf8(data) else {
        return;
    };
    let source = Source::Text {
        name: "fuzzed.toml",
        toml,
    };
    if let Ok(settings) = Settings::load_from(source, Vec::<(String, String)>::new()) {
        let _ = Rules::compile(&settings.boards);
    }
});

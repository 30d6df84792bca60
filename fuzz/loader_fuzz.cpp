// Fuzzes the object loader on arbitrary bytes. Whatever loads must keep the loader's promises:
// lddw refer to maps by index inside Object::maps, BTF records point inside their programs,
// and the programs, their BTF types and map values can be validated, named and formatted
// without crashing. Seeds: the corpus objects (../shared/corpus) and build/tests/bpf/*.o.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "xbpf/isa.hpp"
#include "xbpf/object.hpp"

namespace {

void check(bool condition) {
    if (!condition) std::abort();
}

void exercise_program(const xbpf::Object& object, const xbpf::ProgramSpec& program) {
    (void)xbpf::validate_program(program.insns);
    for (size_t pc = 0; pc < program.insns.size(); ++pc) {
        const xbpf::Insn& insn = program.insns[pc];
        if (!xbpf::is_lddw(insn)) continue;
        check(pc + 1 < program.insns.size());  // the loader never cuts an lddw in two
        if (insn.src == xbpf::op::kImmMapByIdx || insn.src == xbpf::op::kImmMapValueByIdx) {
            check(static_cast<size_t>(insn.imm) < object.maps.size());
        }
        ++pc;
    }
    for (const auto& f : program.func_info)
        check(f.insn < program.insns.size());
    for (const auto& l : program.line_info)
        check(l.insn < program.insns.size());
    for (const auto& c : program.core_relocations)
        check(c.insn < program.insns.size());
    for (const auto& a : program.appended)
        check(a.insn < program.insns.size());
    check(program.own_insns <= program.insns.size());
    if (!program.insns.empty()) (void)program.line_at(program.insns.size() - 1);
}

void exercise_btf(const xbpf::Object& object) {
    const xbpf::Btf& btf = *object.btf;
    const uint32_t count = btf.type_count() < 2000 ? btf.type_count() : 2000;
    for (uint32_t id = 0; id <= count; ++id) {
        (void)btf.type_name(id);
        auto size = btf.resolve_size(id);
        if (size && *size <= 4096) {
            const std::vector<uint8_t> zeros(*size, 0);
            (void)btf.format_value(id, zeros);
        }
        (void)btf.find_member(id, "type");
    }
    for (const auto& map : object.maps) {
        if (map.btf_value_type_id != 0 && map.value_size <= 4096) {
            std::vector<uint8_t> value(map.initial_value);
            value.resize(map.value_size, 0);
            (void)btf.format_value(map.btf_value_type_id, value);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto object = xbpf::load_object(std::span(data, size), "fuzz.o");
    if (!object) {
        check(!object.error().message().empty());
        return 0;
    }
    for (const auto& program : object->programs)
        exercise_program(*object, program);
    if (object->btf) exercise_btf(*object);
    return 0;
}

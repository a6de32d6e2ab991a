#!/bin/bash
# Disassembles every table acpi_setup() writes with ACPICA's iasl, checks the
# decoded fields, and recompiles the DSDT: iasl must report no error or warning.
# usage: acpi-iasl.sh TEST_ACPI_BINARY
set -u
bin=$1
command -v iasl >/dev/null || { echo "iasl not installed (apt-get install acpica-tools)"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" --dump "$dir" >/dev/null || { echo "test_acpi --dump failed"; exit 1; }
cd "$dir" || exit 1
fail=0
for t in RSDT XSDT FACP FACS APIC DSDT; do
        [ -f "$t.dat" ] || { echo "FAIL: $t not dumped"; fail=1; continue; }
        if ! iasl -d "$t.dat" >"$t.log" 2>&1; then
                echo "FAIL: iasl -d $t"; cat "$t.log"; fail=1
        fi
        if grep -qiE '(error|warning|invalid)' "$t.log" "$t.dsl"; then
                echo "FAIL: iasl complains about $t"; grep -iE '(error|warning|invalid)' "$t.log" "$t.dsl"; fail=1
        fi
done
want() { # file, extended regex, description
        grep -qE "$2" "$1" || { echo "FAIL: $1 lacks $3"; fail=1; }
}
want FACP.dsl 'PM1A Control Block Address : 00000604' 'PM1a_CNT at 0x604'
want FACP.dsl 'PM1A Event Block Address : 00000600' 'PM1a_EVT at 0x600'
want FACP.dsl 'SCI Interrupt : 0009' 'SCI 9'
want FACP.dsl 'Hardware Reduced \(V5\) : 0' 'full (not hardware-reduced) ACPI'
want FACP.dsl '8042 Present on ports 60/64 \(V2\) : 1' 'the 8042 flag'
want DSDT.dsl 'Name \(\\_S5, Package \(0x04\)' 'the _S5 package'
want DSDT.dsl 'EisaId \("PNP0A03"\)' 'the PCI host bridge'
want DSDT.dsl 'WordBusNumber' 'the bus range'
want DSDT.dsl 'DWordMemory' 'the PCI memory window'
n=$(grep -c 'Processor Local APIC' APIC.dsl)
[ "$n" -eq 4 ] || { echo "FAIL: $n local APICs in the MADT, want 4"; fail=1; }
want APIC.dsl 'Address : FEC00000' 'the IOAPIC'
if ! iasl -p recompiled DSDT.dsl >recompile.log 2>&1 || ! grep -q '0 Errors, 0 Warnings' recompile.log; then
        echo "FAIL: the disassembled DSDT does not recompile cleanly"; cat recompile.log; fail=1
fi
[ $fail -eq 0 ] && echo "iasl accepts all tables"
exit $fail

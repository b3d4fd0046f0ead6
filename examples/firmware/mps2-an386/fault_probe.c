/*
 * fault_probe.c: a firmware that fails on purpose, linked with the same
 * startup.c and mps2-an386.ld as the trainer. `cargo xtask test` (through
 * the Cortex-M4F demo check) runs it once per way of failing and requires
 * QEMU to end each run with a failure status and the firmware's message,
 * well within the timeout: a firmware whose failures read as success, or
 * hang, would make the trainer's run prove nothing.
 *
 * Usage (the argument comes through -semihosting-config arg=...):
 *   fault_probe return-3   main returns 3
 *   fault_probe exit-5     exit(5) from inside the program
 *   fault_probe undefined  an undefined instruction (UsageFault)
 *   fault_probe divide     an integer division by zero (UsageFault)
 *   fault_probe overflow   unbounded recursion (the MPU stack guard)
 *   fault_probe guard      a read of the stack guard (MemManage)
 * With no argument or an unknown one it prints its usage and returns 2.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int hundred = 100;
static volatile int zero;
static volatile unsigned never = UINT32_MAX;

/* Each level keeps a frame of its own that the next one reads. */
static unsigned recurse(const volatile unsigned char *outer, unsigned depth)
{
    volatile unsigned char frame[200];
    frame[0] = (unsigned char)depth;
    frame[sizeof frame - 1] = outer != NULL ? outer[0] : 0u;
    if (depth == never) {
        return frame[0];
    }
    return recurse(frame, depth + 1) + frame[sizeof frame - 1];
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    printf("fault_probe: %s\n", what);
    fflush(stdout);
    if (strcmp(what, "return-3") == 0) {
        return 3;
    } else if (strcmp(what, "exit-5") == 0) {
        exit(5);
    } else if (strcmp(what, "undefined") == 0) {
        __builtin_trap();
    } else if (strcmp(what, "divide") == 0) {
        return hundred / zero;
    } else if (strcmp(what, "overflow") == 0) {
        return (int)recurse(NULL, 0);
    } else if (strcmp(what, "guard") == 0) {
        return (int)*(volatile const uint32_t *)0x1ffffff0u;
    }
    fputs("usage: fault_probe return-3|exit-5|undefined|divide|overflow|"
          "guard\n",
          stderr);
    return 2;
}

/*
 * startup.c: reset, fault handling, heap and exit of the freestep demo
 * firmware on the MPS2 AN386 (Cortex-M4F) board, for QEMU with
 * semihosting. The trainer itself is examples/c/train_digits.c, unchanged:
 * it gets main(argc, argv) from here, its stdio goes through newlib and
 * librdimon (semihosting), and its return value becomes QEMU's exit status.
 *
 * The reset handler
 *   1. turns on the FPU (CPACR), before any floating-point instruction;
 *   2. paints the program's stack with a known word, so that the deepest
 *      point the stack reached can be found after main;
 *   3. moves thread mode to that stack (PSP) and keeps the main stack (MSP)
 *      for the fault handlers, so that a fault caused by an overflowing
 *      program stack can still be reported;
 *   4. in C: copies .data, zeroes .bss, turns on the separate fault
 *      handlers and the divide-by-zero trap, makes the MPU refuse the 1 MiB
 *      below the stack, opens the semihosting console, runs constructors,
 *      reads the command line QEMU passes (-semihosting-config arg=...) and
 *      calls exit(main(argc, argv)).
 *
 * At exit the firmware prints one line of RAM use,
 *   ram: static N B, stack N B, heap N B, total N B
 * (.data + .bss; the stack's high-water mark; the most newlib's malloc took
 * from the heap), then leaves QEMU through semihosting with main's status.
 *
 * Every exception other than reset, faults included, prints what happened
 * and where, and leaves QEMU with a failure status; nothing here waits
 * forever.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Symbols of mps2-an386.ld. */
extern uint32_t __stack_bottom[], __stack_top[];
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];
extern char __heap_start[], __heap_end[];
extern uint32_t __handler_stack_bottom[], __handler_stack_top[];
extern void (*__preinit_array_start[])(void);
extern void (*__preinit_array_end[])(void);
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);

int main(int argc, char **argv);
void initialise_monitor_handles(void); /* librdimon */
void *_sbrk(ptrdiff_t incr);
void _exit(int status) __attribute__((noreturn));
void reset_handler(void) __attribute__((naked, noreturn));
void fault_entry(void) __attribute__((naked, noreturn));
void start(void) __attribute__((noreturn, used));
void fault_report(const uint32_t *frame, uint32_t exc_return)
    __attribute__((noreturn, used));

/* The word the stack is painted with; see stack_used. */
#define PAINT 0x57ac5eedu
#define STR_(x) #x
#define STR(x) STR_(x)

/* ---- Semihosting. ---- */

#define SYS_WRITE0 0x04
#define SYS_GET_CMDLINE 0x15
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUN_TIME_ERROR_UNKNOWN 0x20023u

static int semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int)r0;
}

static void write_console(const char *s)
{
    semihost(SYS_WRITE0, s);
}

/* Leaves QEMU with `status`: 0 is success, anything else a failure. */
static void __attribute__((noreturn)) leave(int status)
{
    if (status == 0) {
        semihost(SYS_EXIT, (const void *)ADP_STOPPED_APPLICATION_EXIT);
    } else {
        /* Status 256 would read as 0 on the host: keep failures non-zero. */
        uint32_t code = (uint32_t)status & 0xffu;
        uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, code ? code : 1u};
        semihost(SYS_EXIT_EXTENDED, block);
        /* A host without the extension: a plain exit that reads as 1. */
        semihost(SYS_EXIT, (const void *)ADP_STOPPED_RUN_TIME_ERROR_UNKNOWN);
    }
    /* Only without semihosting can the calls above return. */
    for (;;) {
    }
}

/* newlib's exit() ends here, after atexit handlers and flushing stdio. */
void _exit(int status)
{
    leave(status);
}

/* newlib registers __libc_fini_array with atexit (a constructor of its
 * own), which calls _fini; crti.o, left out with the startup files, would
 * define it. Nothing needs it here. */
void _fini(void);
void _fini(void)
{
}

/* ---- Memory use. ---- */

static char *heap_break = __heap_start;
static char *heap_high = __heap_start;

/* The only heap newlib gets is .heap; asking for more fails with ENOMEM. */
void *_sbrk(ptrdiff_t incr)
{
    char *old = heap_break;
    if (incr > __heap_end - old || incr < __heap_start - old) {
        errno = ENOMEM;
        return (void *)-1;
    }
    heap_break = old + incr;
    if (heap_break > heap_high) {
        heap_high = heap_break;
    }
    return old;
}

/* Bytes of the program's stack ever written: up to the lowest word that
 * no longer holds the paint. */
static size_t stack_used(void)
{
    const volatile uint32_t *p = __stack_bottom;
    while (p < __stack_top && *p == PAINT) {
        p++;
    }
    return (size_t)((const char *)__stack_top - (const volatile char *)p);
}

static void report_ram(void)
{
    size_t stat = (size_t)((char *)__data_end - (char *)__data_start) +
                  (size_t)((char *)__bss_end - (char *)__bss_start);
    size_t stack = stack_used();
    size_t heap = (size_t)(heap_high - __heap_start);
    fflush(stdout);
    printf("ram: static %lu B, stack %lu B, heap %lu B, total %lu B\n",
           (unsigned long)stat, (unsigned long)stack, (unsigned long)heap,
           (unsigned long)(stat + stack + heap));
}

/* ---- System control registers. ---- */

#define REG(addr) (*(volatile uint32_t *)(addr))
#define SCB_CCR REG(0xe000ed14u)
#define SCB_SHCSR REG(0xe000ed24u)
#define SCB_CFSR REG(0xe000ed28u)
#define SCB_HFSR REG(0xe000ed2cu)
#define SCB_MMFAR REG(0xe000ed34u)
#define SCB_BFAR REG(0xe000ed38u)
#define MPU_CTRL REG(0xe000ed94u)
#define MPU_RNR REG(0xe000ed98u)
#define MPU_RBAR REG(0xe000ed9cu)
#define MPU_RASR REG(0xe000eda0u)

/* The MPU region below the stack that no access may touch. */
#define GUARD_BASE 0x1ff00000u
#define GUARD_SIZE_LOG2 20u /* 1 MiB, aligned to its size */

static void configure_faults(void)
{
    /* MemManage, BusFault and UsageFault get their own handler (and name)
     * instead of escalating to HardFault; integer division by zero traps,
     * as it does on the host. */
    SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18);
    SCB_CCR |= 1u << 4;

    /* Region 0: no access, no execution, over [GUARD_BASE, 0x20000000).
     * The default memory map stays in force elsewhere (PRIVDEFENA). */
    MPU_RNR = 0;
    MPU_RBAR = GUARD_BASE;
    MPU_RASR = (1u << 28) | ((GUARD_SIZE_LOG2 - 1u) << 1) | 1u;
    MPU_CTRL = (1u << 2) | 1u;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

/* ---- Reset. ---- */

void reset_handler(void)
{
    __asm__ volatile(
        /* CPACR: full access to CP10 and CP11, the FPU. */
        "ldr r0, =0xe000ed88\n\t"
        "ldr r1, [r0]\n\t"
        "orr r1, r1, #(0xf << 20)\n\t"
        "str r1, [r0]\n\t"
        "dsb\n\t"
        "isb\n\t"
        /* Paint [__stack_bottom, __stack_top); nothing runs on it yet. */
        "ldr r0, =__stack_bottom\n\t"
        "ldr r1, =__stack_top\n\t"
        "ldr r2, =" STR(PAINT) "\n"
        "1:\n\t"
        "cmp r0, r1\n\t"
        "bhs 2f\n\t"
        "str r2, [r0], #4\n\t"
        "b 1b\n"
        "2:\n\t"
        /* Thread mode runs on the painted stack (PSP); MSP stays for the
         * handlers. */
        "msr psp, r1\n\t"
        "movs r0, #2\n\t"
        "msr control, r0\n\t"
        "isb\n\t"
        "bl start\n\t"
        "udf #0\n\t"
        ".ltorg\n");
}

/* The command line QEMU passes, split at spaces into argv. A line that
 * does not fit is an error: running with some of the arguments dropped
 * would train the wrong thing and look like success. */
static char cmdline[256];
static char *args[16];
#define MAX_ARGS ((int)(sizeof args / sizeof args[0]) - 1)

static int read_args(void)
{
    struct {
        char *buffer;
        uint32_t length;
    } block = {cmdline, sizeof cmdline - 1};
    if (semihost(SYS_GET_CMDLINE, &block) != 0 ||
        block.length >= sizeof cmdline) {
        write_console("firmware: the semihosting command line is missing or "
                      "too long for its 256-byte buffer\n");
        leave(1);
    }
    cmdline[block.length] = '\0';
    int argc = 0;
    char *p = cmdline;
    for (;;) {
        while (*p == ' ') {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        if (argc == MAX_ARGS) {
            write_console("firmware: more than 15 words on the command "
                          "line\n");
            leave(1);
        }
        args[argc++] = p;
        while (*p != '\0' && *p != ' ') {
            p++;
        }
    }
    if (argc == 0) {
        static char name[] = "firmware";
        args[argc++] = name;
    }
    args[argc] = NULL;
    return argc;
}

void start(void)
{
    for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;) {
        *d++ = *s++;
    }
    for (uint32_t *d = __bss_start; d < __bss_end;) {
        *d++ = 0;
    }
    configure_faults();
    initialise_monitor_handles();
    for (void (**f)(void) = __preinit_array_start; f < __preinit_array_end; f++) {
        (*f)();
    }
    for (void (**f)(void) = __init_array_start; f < __init_array_end; f++) {
        (*f)();
    }
    int argc = read_args();
    if (atexit(report_ram) != 0) {
        write_console("firmware: atexit failed\n");
        leave(1);
    }
    exit(main(argc, args));
}

/* ---- Faults and unexpected exceptions. ---- */

void fault_entry(void)
{
    /* Pass the stacked frame (on PSP or MSP, as EXC_RETURN bit 2 says) and
     * EXC_RETURN to fault_report, which runs on MSP. */
    __asm__ volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov r1, lr\n\t"
        "b fault_report\n");
}

static char *put_str(char *p, const char *s)
{
    while (*s != '\0') {
        *p++ = *s++;
    }
    return p;
}

static char *put_hex(char *p, uint32_t v)
{
    p = put_str(p, "0x");
    for (int shift = 28; shift >= 0; shift -= 4) {
        *p++ = "0123456789abcdef"[(v >> shift) & 0xfu];
    }
    return p;
}

static char *put_dec(char *p, uint32_t v)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    while (n > 0) {
        *p++ = digits[--n];
    }
    return p;
}

static const char *exception_name(uint32_t n)
{
    switch (n) {
    case 2:
        return "NMI";
    case 3:
        return "HardFault";
    case 4:
        return "MemManage fault";
    case 5:
        return "BusFault";
    case 6:
        return "UsageFault";
    case 11:
        return "SVCall";
    case 12:
        return "DebugMonitor";
    case 14:
        return "PendSV";
    case 15:
        return "SysTick";
    default:
        return n >= 16 ? "interrupt" : "reserved exception";
    }
}

/* True when a whole 8-word frame at `frame` lies inside [lo, hi). */
static int frame_within(const uint32_t *frame, const uint32_t *lo,
                        const uint32_t *hi)
{
    return frame >= lo && frame + 8 <= hi;
}

void fault_report(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    uint32_t n = ipsr & 0x1ffu;
    uint32_t cfsr = SCB_CFSR;
    uint32_t mmfar = SCB_MMFAR;
    char line[320];
    char *p = put_str(line, "firmware: ");
    p = put_str(p, exception_name(n));
    p = put_str(p, " (exception ");
    p = put_dec(p, n);
    p = put_str(p, ")");
    int thread_frame = (exc_return & 4u) != 0;
    if ((thread_frame && frame_within(frame, __stack_bottom, __stack_top)) ||
        (!thread_frame &&
         frame_within(frame, __handler_stack_bottom, __handler_stack_top))) {
        p = put_str(p, " at pc ");
        p = put_hex(p, frame[6]);
        p = put_str(p, ", lr ");
        p = put_hex(p, frame[5]);
    }
    p = put_str(p, "; CFSR ");
    p = put_hex(p, cfsr);
    p = put_str(p, " HFSR ");
    p = put_hex(p, SCB_HFSR);
    p = put_str(p, " MMFAR ");
    p = put_hex(p, mmfar);
    p = put_str(p, " BFAR ");
    p = put_hex(p, SCB_BFAR);
    /* MSTKERR, or a data access violation at an address in the guard. */
    int mmar_valid = (cfsr & (1u << 7)) != 0;
    if ((cfsr & (1u << 4)) != 0 ||
        (mmar_valid && mmfar >= GUARD_BASE && mmfar < 0x20000000u)) {
        p = put_str(p, "\nfirmware: the stack guard was hit: the stack "
                       "needs more than its ");
        p = put_dec(p, (uint32_t)((char *)__stack_top -
                                  (char *)__stack_bottom));
        p = put_str(p, " B (STACK_SIZE in mps2-an386.ld)");
    }
    p = put_str(p, "\n");
    *p = '\0';
    write_console(line);
    semihost(SYS_EXIT, (const void *)ADP_STOPPED_RUN_TIME_ERROR_UNKNOWN);
    for (;;) {
    }
}

/* ---- The vector table: 16 system exceptions, 32 interrupts (AN386). ---- */

typedef void (*vector)(void);

#define F2 fault_entry, fault_entry
#define F8 F2, F2, F2, F2
#define F32 F8, F8, F8, F8

__attribute__((section(".vectors"), used)) static const struct {
    uint32_t *initial_sp;
    vector reset;
    vector exceptions[14 + 32]; /* exceptions 2..15, then the interrupts */
} vector_table = {
    __handler_stack_top,
    reset_handler,
    {F8, F2, F2, F2, F32},
};

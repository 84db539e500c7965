/* The two interrupt-masking hooks a Cortex-M0/M0+ firmware supplies to the
 * thumbv6m build of fusewire (feature critical-section), without CMSIS.
 * They nest: save returns the PRIMASK before masking, restore writes that
 * value back, so interrupts come back on only when the outermost section
 * ends. (With CMSIS: __get_PRIMASK, __disable_irq, __set_PRIMASK.) */
#include <stdint.h>

uint32_t fusewire_irq_save(void);
void fusewire_irq_restore(uint32_t state);

uint32_t fusewire_irq_save(void) {
    uint32_t primask;
    __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    return primask;
}

void fusewire_irq_restore(uint32_t state) {
    __asm volatile("msr primask, %0" ::"r"(state) : "memory");
}

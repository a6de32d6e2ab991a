/* Between pci.c and pci_msix.c only. */
#ifndef TANDEM_PCI_INTERNAL_H
#define TANDEM_PCI_INTERNAL_H

#include "pci.h"

/* A config write covered [off, off+len): react if it touched the MSI-X cap. */
void pci_msix_config_written(struct pci_device *dev, unsigned off, unsigned len);
/* True (and handled) when the BAR access falls in the MSI-X table or PBA. */
bool pci_msix_bar_access(struct pci_device *dev, unsigned bar, uint64_t off, void *data,
                         unsigned len, bool is_write);
void pci_msix_release(struct pci_device *dev);

#endif

/*
 * A gratuitous-ARP flood for the policing suite (flood.test.ts): sends ARP requests with sender IP = target IP =
 * IP from MAC out of IFACE, as fast as one packet socket can, for SECONDS; prints what it sent as one JSON line.
 * arping sends one frame per round trip of its own timer; a flood needs a loop of sendto().
 *
 *   garp-flood IFACE MAC IP SECONDS
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static double since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv) {
  unsigned char mac[6];
  struct in_addr ip;
  if (argc != 5 ||
      sscanf(argv[2], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) != 6 ||
      inet_pton(AF_INET, argv[3], &ip) != 1) {
    fprintf(stderr, "usage: garp-flood IFACE MAC IP SECONDS\n");
    return 2;
  }
  double seconds = atof(argv[4]);
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ARP));
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = (int)if_nametoindex(argv[1]);
  to.sll_halen = 6;
  memset(to.sll_addr, 0xff, 6);
  if (to.sll_ifindex == 0) {
    perror("if_nametoindex");
    return 1;
  }

  unsigned char f[60];
  memset(f, 0, sizeof f);
  memset(f, 0xff, 6); /* to broadcast */
  memcpy(f + 6, mac, 6);
  f[12] = 0x08, f[13] = 0x06;               /* ARP */
  f[14] = 0, f[15] = 1, f[16] = 8, f[17] = 0; /* Ethernet, IPv4 */
  f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1; /* request */
  memcpy(f + 22, mac, 6);
  memcpy(f + 28, &ip, 4);
  memcpy(f + 38, &ip, 4);

  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  unsigned long sent = 0, failed = 0;
  double elapsed;
  do {
    for (int i = 0; i < 256; i++) {
      if (sendto(fd, f, sizeof f, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)sizeof f) sent++;
      else failed++;
    }
  } while ((elapsed = since(&t0)) < seconds);
  printf("{\"sent\":%lu,\"failed\":%lu,\"seconds\":%.3f}\n", sent, failed, elapsed);
  return 0;
}

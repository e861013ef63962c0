/* A gratuitous-ARP flood from one instance, for the fault suite: ARP requests with sender IP = target IP = the
 * HAVIP, from the interface's own MAC, broadcast, as fast as the socket takes them, for a given time.
 * Prints the number of frames sent.   garp-flood <ifname> <ipv4> <seconds> */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: garp-flood <ifname> <ipv4> <seconds>\n");
    return 2;
  }
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ARP));
  if (fd < 0) { perror("socket"); return 1; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) { perror("SIOCGIFHWADDR"); return 1; }
  unsigned char mac[6];
  memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  struct in_addr ip;
  if (inet_pton(AF_INET, argv[2], &ip) != 1) { fprintf(stderr, "bad address\n"); return 2; }
  unsigned char frame[42];
  memset(frame, 0xff, 6);                       /* destination: broadcast */
  memcpy(frame + 6, mac, 6);                    /* source: own MAC */
  frame[12] = 0x08; frame[13] = 0x06;           /* ARP */
  frame[14] = 0; frame[15] = 1;                 /* Ethernet */
  frame[16] = 0x08; frame[17] = 0x00;           /* IPv4 */
  frame[18] = 6; frame[19] = 4;
  frame[20] = 0; frame[21] = 1;                 /* request */
  memcpy(frame + 22, mac, 6);
  memcpy(frame + 28, &ip, 4);                   /* sender IP = the HAVIP */
  memset(frame + 32, 0, 6);
  memcpy(frame + 38, &ip, 4);                   /* target IP = the HAVIP */
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_ifindex = (int)if_nametoindex(argv[1]);
  to.sll_halen = 6;
  memset(to.sll_addr, 0xff, 6);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  double seconds = atof(argv[3]);
  unsigned long sent = 0;
  for (;;) {
    for (int i = 0; i < 64; i++)
      if (sendto(fd, frame, sizeof frame, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)sizeof frame) sent++;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9 >= seconds) break;
  }
  printf("%lu\n", sent);
  return 0;
}

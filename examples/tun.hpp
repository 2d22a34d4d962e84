// examples/tun.hpp — a Linux TUN device for the example tunnels: IFF_TUN without packet
// information (with `vnet_hdr`, each packet behind a virtio_net_hdr: tun_offload.hpp),
// the given MTU, brought up. Returns the descriptor, or -1 with `why` set.
#pragma once

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

inline int open_tun(const std::string& name, std::size_t mtu, std::string& why, bool vnet_hdr = false) {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) { why = std::string("open /dev/net/tun: ") + std::strerror(errno); return -1; }
  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0));
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) { why = std::string("TUNSETIFF: ") + std::strerror(errno); ::close(fd); return -1; }
  const int s = socket(AF_INET, SOCK_DGRAM, 0);
  ifr.ifr_mtu = static_cast<int>(mtu);
  if (ioctl(s, SIOCSIFMTU, &ifr) < 0) { why = std::string("SIOCSIFMTU: ") + std::strerror(errno); ::close(s); ::close(fd); return -1; }
  if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP;
    ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  ::close(s);
  return fd;
}

package inboxhttp_test

import (
	"fmt"
	"net"
	"runtime"
	"syscall"
)

// readStreams opens n event streams of the server at addr and reads them
// all from one thread with epoll, one read per ready connection, so that
// the clients take as little of the machine as they can.
func readStreams(addr string, n int, report func()) error {
	runtime.LockOSThread()
	ta, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		return err
	}
	sa := &syscall.SockaddrInet4{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To4())
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	type conn struct {
		carry []byte
		ready bool
	}
	conns := make(map[int32]*conn, n)
	req := []byte("GET /api/events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
	for range n {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err := syscall.Connect(fd, sa); err != nil {
			return err
		}
		if _, err := syscall.Write(fd, req); err != nil {
			return err
		}
		if err := syscall.SetNonblock(fd, true); err != nil {
			return err
		}
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}); err != nil {
			return err
		}
		conns[int32(fd)] = &conn{carry: make([]byte, 0, 64)}
	}
	c := &counter{n: n, report: report}
	events := make([]syscall.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	for {
		k, err := syscall.EpollWait(ep, events, -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for _, ev := range events[:k] {
			cn := conns[ev.Fd]
			m, err := syscall.Read(int(ev.Fd), buf)
			if err == syscall.EAGAIN || err == syscall.EINTR {
				continue
			}
			if err != nil || m == 0 {
				return fmt.Errorf("stream closed: %v", err)
			}
			cn.carry = c.scan(cn.carry, buf[:m], &cn.ready)
		}
	}
}

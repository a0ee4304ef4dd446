// The bridge's side of a host connection, as the relay makes it, for the host connection's unit
// tests and the host_events fuzz target: registry 2, data device manager 3, seat 4, data device
// 5, compositor 6, surface 7, pointer 8 (the host end never answers). The data device and the
// pointer are watched (their events make or name objects), as RelayObject::AttachProxy watches
// them; the offers the host makes are kept until the test destroys them or the side goes.
#ifndef DROIDWAY_NATIVE_TESTS_HOST_SIDE_H_
#define DROIDWAY_NATIVE_TESTS_HOST_SIDE_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "../src/bridge/host_connection.h"
#include "../src/bridge/wayland_headers.h"

namespace droidway {
namespace test {

struct HostSide {
  wl_registry* registry = nullptr;
  wl_data_device_manager* manager = nullptr;
  wl_seat* seat = nullptr;
  wl_data_device* device = nullptr;
  wl_compositor* compositor = nullptr;
  wl_surface* surface = nullptr;
  wl_pointer* pointer = nullptr;
  std::vector<wl_data_offer*> offers;
  // The last selection's offer and how many selections came.
  wl_data_offer* selection = nullptr;
  int selections = 0;

  explicit HostSide(bridge::HostConnection* connection) {
    registry = wl_display_get_registry(connection->display());
    manager = static_cast<wl_data_device_manager*>(
        wl_registry_bind(registry, 1, &wl_data_device_manager_interface, 3));
    seat = static_cast<wl_seat*>(wl_registry_bind(registry, 2, &wl_seat_interface, 5));
    device = wl_data_device_manager_get_data_device(manager, seat);
    wl_data_device_add_listener(device, &kDeviceListener, this);
    compositor =
        static_cast<wl_compositor*>(wl_registry_bind(registry, 3, &wl_compositor_interface, 4));
    surface = wl_compositor_create_surface(compositor);
    pointer = wl_seat_get_pointer(seat);
    wl_pointer_add_listener(pointer, &kPointerListener, this);
    connection->WatchEvents(wl_proxy_get_id(reinterpret_cast<wl_proxy*>(device)),
                            &wl_data_device_interface);
    connection->WatchEvents(wl_proxy_get_id(reinterpret_cast<wl_proxy*>(pointer)),
                            &wl_pointer_interface);
  }
  ~HostSide() {
    for (wl_data_offer* offer : offers) wl_data_offer_destroy(offer);
    wl_pointer_destroy(pointer);
    wl_surface_destroy(surface);
    wl_compositor_destroy(compositor);
    wl_data_device_release(device);
    wl_seat_destroy(seat);
    wl_data_device_manager_destroy(manager);
    wl_registry_destroy(registry);
  }
  HostSide(const HostSide&) = delete;
  HostSide& operator=(const HostSide&) = delete;

  // The guest destroyed its twin of `offer`: the relay destroys the host proxy (ProxyGone).
  void Destroy(bridge::HostConnection* connection, wl_data_offer* offer) {
    offers.erase(std::find(offers.begin(), offers.end(), offer));
    connection->ServerObjectDestroyed(wl_proxy_get_id(reinterpret_cast<wl_proxy*>(offer)));
    wl_data_offer_destroy(offer);
  }

  static void OnDataOffer(void* data, wl_data_device*, wl_data_offer* offer) {
    static_cast<HostSide*>(data)->offers.push_back(offer);
  }
  static void OnEnter(void*, wl_data_device*, uint32_t, wl_surface*, wl_fixed_t, wl_fixed_t,
                      wl_data_offer*) {}
  static void OnLeave(void*, wl_data_device*) {}
  static void OnMotion(void*, wl_data_device*, uint32_t, wl_fixed_t, wl_fixed_t) {}
  static void OnDrop(void*, wl_data_device*) {}
  static void OnSelection(void* data, wl_data_device*, wl_data_offer* offer) {
    static_cast<HostSide*>(data)->selection = offer;
    ++static_cast<HostSide*>(data)->selections;
  }
  static constexpr wl_data_device_listener kDeviceListener = {OnDataOffer, OnEnter, OnLeave,
                                                              OnMotion,    OnDrop,  OnSelection};

  static void PointerEnter(void*, wl_pointer*, uint32_t, wl_surface*, wl_fixed_t, wl_fixed_t) {}
  static void PointerLeave(void*, wl_pointer*, uint32_t, wl_surface*) {}
  static void PointerMotion(void*, wl_pointer*, uint32_t, wl_fixed_t, wl_fixed_t) {}
  static void PointerButton(void*, wl_pointer*, uint32_t, uint32_t, uint32_t, uint32_t) {}
  static void PointerAxis(void*, wl_pointer*, uint32_t, uint32_t, wl_fixed_t) {}
  static void PointerFrame(void*, wl_pointer*) {}
  static void PointerAxisSource(void*, wl_pointer*, uint32_t) {}
  static void PointerAxisStop(void*, wl_pointer*, uint32_t, uint32_t) {}
  static void PointerAxisDiscrete(void*, wl_pointer*, uint32_t, int32_t) {}
  static void PointerAxisValue120(void*, wl_pointer*, uint32_t, int32_t) {}
  // Every event has a function: libwayland-client dispatches an event of a later version than
  // the proxy's too.
  static constexpr wl_pointer_listener kPointerListener = {
      PointerEnter, PointerLeave,      PointerMotion,   PointerButton,       PointerAxis,
      PointerFrame, PointerAxisSource, PointerAxisStop, PointerAxisDiscrete, PointerAxisValue120};
};

}  // namespace test
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_TESTS_HOST_SIDE_H_

import Logging
import SDCAssembly
import SDCHAPI

extension ServeCommand {
    /// The HAPI 3.3 time-series server at `/hapi` over the data center's CDF products, with the API's keys and embargo.
    func hapi(_ dataCenter: DataCenter) -> HAPIService {
        HAPIService(catalog: dataCenter.catalog, store: dataCenter.store, keys: dataCenter.catalog, logger: Logger(label: "sdc.hapi"))
    }
}

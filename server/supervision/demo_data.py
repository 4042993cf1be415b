"""Demo market entities, inspectors and credit facts of Wenzhou: realistic but fictitious.

Every name, licence number and phone number here is invented; the counties are Wenzhou's real
districts and counties so that risk warnings and inspection pools have something to match.
Scenic areas refer to the demo catalogue's venues by code.
"""

from __future__ import annotations

DEMO_ENTITIES: list[dict] = [
    # travel agencies (旅行社业务经营许可证)
    {"kind": "travel_agency", "licence_number": "L-ZJ-WZ90101",
     "name": "温州瓯江行国际旅行社有限公司",
     "address": "鹿城区车站大道虚构路88号", "county": "鹿城区", "contact_name": "业务部",
     "contact_phone": "0577-8890-1001"},
    {"kind": "travel_agency", "licence_number": "L-ZJ-WZ90102",
     "name": "温州山水雁荡旅行社有限公司",
     "address": "乐清市雁荡镇虚构街12号", "county": "乐清市", "contact_name": "前台",
     "contact_phone": "0577-6290-1002"},
    {"kind": "travel_agency", "licence_number": "L-ZJ-WZ90103",
     "name": "温州楠溪假日旅行社有限公司",
     "address": "永嘉县上塘镇虚构路5号", "county": "永嘉县", "contact_name": "计调部",
     "contact_phone": "0577-6799-1003"},
    {"kind": "travel_agency", "licence_number": "L-ZJ-WZ90104",
     "name": "瑞安市玉海青年旅行社有限公司",
     "address": "瑞安市安阳街道虚构路21号", "county": "瑞安市", "contact_name": "门店",
     "contact_phone": "0577-6588-1004"},
    # tour guides (导游证): people, their mobiles are personal data
    {"kind": "tour_guide", "licence_number": "D-3303-900101", "name": "林晓瓯",
     "county": "鹿城区", "contact_name": "林晓瓯", "contact_phone": "13800577101"},
    {"kind": "tour_guide", "licence_number": "D-3303-900102", "name": "陈雁山",
     "county": "乐清市", "contact_name": "陈雁山", "contact_phone": "13900577102"},
    {"kind": "tour_guide", "licence_number": "D-3303-900103", "name": "周楠溪",
     "county": "永嘉县", "contact_name": "周楠溪", "contact_phone": "13700577103"},
    {"kind": "tour_guide", "licence_number": "D-3303-900104", "name": "黄海霞",
     "county": "洞头区", "contact_name": "黄海霞", "contact_phone": "13600577104"},
    # internet cafés (网络文化经营许可证)
    {"kind": "internet_cafe", "licence_number": "WW-330302-9001", "name": "鹿城星河网咖",
     "address": "鹿城区五马街道虚构巷3号", "county": "鹿城区", "contact_name": "店长",
     "contact_phone": "0577-8820-2001"},
    {"kind": "internet_cafe", "licence_number": "WW-330304-9002", "name": "瓯海极速网络会所",
     "address": "瓯海区娄桥街道虚构路66号", "county": "瓯海区", "contact_name": "店长",
     "contact_phone": "0577-8651-2002"},
    {"kind": "internet_cafe", "licence_number": "WW-330303-9003", "name": "龙湾云端电竞馆",
     "address": "龙湾区永中街道虚构大道9号", "county": "龙湾区", "contact_name": "店长",
     "contact_phone": "0577-8698-2003"},
    # performance brokers (营业性演出许可证)
    {"kind": "performance_broker", "licence_number": "YC-330300-9001",
     "name": "温州南戏演艺经纪有限公司",
     "address": "鹿城区虚构文化路18号", "county": "鹿城区", "contact_name": "经纪部",
     "contact_phone": "0577-8877-3001"},
    {"kind": "performance_broker", "licence_number": "YC-330300-9002",
     "name": "温州瓯越鼓词文化传播有限公司",
     "address": "瑞安市虚构街道8号", "county": "瑞安市", "contact_name": "经纪部",
     "contact_phone": "0577-6533-3002"},
    # hotels
    {"kind": "hotel", "licence_number": "JD-330302-9001", "name": "温州江心虚构大酒店",
     "address": "鹿城区望江东路虚构号", "county": "鹿城区", "contact_name": "前厅部",
     "contact_phone": "0577-8800-4001"},
    {"kind": "hotel", "licence_number": "JD-330382-9002", "name": "雁荡山灵峰虚构山居酒店",
     "address": "乐清市雁荡镇灵峰虚构路", "county": "乐清市", "contact_name": "前厅部",
     "contact_phone": "0577-6224-4002"},
    {"kind": "hotel", "licence_number": "JD-330305-9003", "name": "洞头海景虚构度假酒店",
     "address": "洞头区北岙街道虚构海滨路", "county": "洞头区", "contact_name": "前厅部",
     "contact_phone": "0577-6348-4003"},
    # A-level scenic areas, tied to the demo catalogue
    {"kind": "scenic_area", "licence_number": "AJ-330302-01", "name": "江心屿景区管理处",
     "county": "鹿城区", "contact_name": "游客中心", "contact_phone": "0577-8822-5001",
     "venue_code": "jiangxin-islet", "a_level": 5},
    {"kind": "scenic_area", "licence_number": "AJ-330382-01", "name": "雁荡山风景旅游管理委员会",
     "county": "乐清市", "contact_name": "游客中心", "contact_phone": "0577-6224-5002",
     "venue_code": "yandang-mountain", "a_level": 5},
    {"kind": "scenic_area", "licence_number": "AJ-330324-01", "name": "楠溪江风景区管理处",
     "county": "永嘉县", "contact_name": "游客中心", "contact_phone": "0577-6799-5003",
     "venue_code": "nanxi-river", "a_level": 4},
    {"kind": "scenic_area", "licence_number": "AJ-330328-01", "name": "百丈漈景区管理处",
     "county": "文成县", "contact_name": "游客中心", "contact_phone": "0577-6711-5004",
     "venue_code": "baizhangji", "a_level": 4},
]  # fmt: skip

DEMO_INSPECTORS: list[dict] = [
    {"name": "王执法", "badge_number": "ZF-WZ-90001"},
    {"name": "李检查", "badge_number": "ZF-WZ-90002"},
    {"name": "张稽查", "badge_number": "ZF-WZ-90003"},
    {"name": "刘监督", "badge_number": "ZF-WZ-90004"},
    {"name": "吴巡查", "badge_number": "ZF-WZ-90005"},
    {"name": "郑督察", "badge_number": "ZF-WZ-90006"},
]

# (inspector badge, entity licence, reason)
DEMO_CONFLICTS: list[tuple[str, str, str]] = [
    ("ZF-WZ-90002", "L-ZJ-WZ90102", "近亲属在该旅行社任职"),
    ("ZF-WZ-90004", "JD-330302-9001", "曾在该酒店任职未满两年"),
]

# (entity licence, kind, category, reason, days ago): `source` "demo:<n>" keeps them single.
DEMO_CREDIT_FACTS: list[tuple[str, str, str, str, int]] = [
    ("L-ZJ-WZ90104", "administrative_penalty", "large_fine", "未与游客签订书面旅游合同，罚款", 40),
    ("WW-330304-9002", "administrative_penalty", "fine", "接纳未成年人进入营业场所，罚款", 120),
    ("WW-330304-9002", "inspection_result", "rectify", "实名登记制度落实不到位，责令整改", 30),
    ("D-3303-900103", "complaint_upheld", "complaint_upheld", "带团途中强迫游客购物", 60),
    ("JD-330382-9002", "commendation", "commendation", "台风期间妥善安置滞留游客，获通报表扬", 90),
    ("AJ-330302-01", "inspection_result", "passed", "安全生产与预约限流检查合格", 15),
]
